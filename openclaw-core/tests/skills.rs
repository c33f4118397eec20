//! Skill discovery, eligibility and the prompt block against real files in temp dirs: pi's
//! and OpenClaw's places and precedence, damaged and oversized files reported without hiding
//! their siblings, the bounds, symlinked duplicates, and what the model is shown.

use std::path::Path;

use openclaw_core::agent::system_prompt::{SystemPromptOptions, ToolLine, build_system_prompt};
use openclaw_core::skills::discover::{Limits, discover};
use openclaw_core::skills::{OpenClawPlaces, Scope, SkillCatalog, SkillRoot};
use serde_json::json;

fn skill(dir: &Path, front: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("SKILL.md"), format!("---\n{front}\n---\nBody.\n")).unwrap();
}

fn root(dir: &Path) -> SkillRoot {
    SkillRoot {
        dir: dir.to_path_buf(),
        source: "openclaw-workspace",
        scope: Scope::Project,
        base_dir: dir.to_path_buf(),
        root_markdown: false,
    }
}

#[test]
fn damaged_and_oversized_files_are_reported_and_siblings_still_load() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("skills");
    skill(&r.join("a-good"), "name: a-good\ndescription: Fine.");
    skill(&r.join("b-bad"), "name: b-bad\ndescription: [open");
    skill(&r.join("c-nodesc"), "name: c-nodesc");
    std::fs::create_dir_all(r.join("d-big")).unwrap();
    std::fs::write(
        r.join("d-big/SKILL.md"),
        format!(
            "---\nname: d-big\ndescription: x\n---\n{}",
            "y".repeat(300_000)
        ),
    )
    .unwrap();
    std::fs::create_dir_all(r.join("e-binary")).unwrap();
    std::fs::write(r.join("e-binary/SKILL.md"), [0xffu8, 0xfe, 0x00]).unwrap();
    skill(&r.join("f-good"), "description: Named after its folder.");

    let found = discover(&[root(&r)], &Limits::default());
    let names: Vec<&str> = found.skills.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a-good", "f-good"]);
    let mut problems: Vec<(String, String)> = found
        .problems
        .iter()
        .map(|p| {
            let dir = p.path.parent().unwrap().file_name().unwrap();
            (dir.to_string_lossy().into_owned(), p.message.clone())
        })
        .collect();
    problems.sort();
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(problems[0].0 == "b-bad" && problems[0].1.starts_with("invalid front matter"));
    assert_eq!(
        problems[1],
        ("c-nodesc".into(), "description is required".into())
    );
    assert_eq!(
        problems[2],
        (
            "d-big".into(),
            "larger than the 256000 bytes allowed".into()
        )
    );
    assert_eq!(problems[3], ("e-binary".into(), "not UTF-8 text".into()));
}

#[test]
fn discovery_is_bounded_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("skills");
    for i in 0..5 {
        skill(
            &r.join(format!("s{i}")),
            &format!("name: s{i}\ndescription: d"),
        );
    }
    // Deeper than allowed: found only with a larger depth.
    skill(&r.join("a/b/c/deep"), "name: deep\ndescription: d");
    let limits = Limits {
        max_skills_per_root: 3,
        max_depth: 2,
        ..Limits::default()
    };
    let found = discover(&[root(&r)], &limits);
    assert_eq!(found.skills.len(), 3);
    assert_eq!(found.problems.len(), 1);
    assert!(found.problems[0].message.contains("stopped at its limit"));
    let all = discover(&[root(&r)], &Limits::default());
    assert_eq!(all.skills.len(), 6);
    assert!(all.problems.is_empty());
}

#[test]
fn first_root_wins_a_name_and_a_symlinked_copy_counts_once() {
    let t = tempfile::tempdir().unwrap();
    let first = t.path().join("one");
    let second = t.path().join("two");
    skill(&first.join("x"), "name: x\ndescription: first");
    skill(&second.join("x"), "name: x\ndescription: second");
    skill(&second.join("y"), "name: y\ndescription: why");
    std::fs::create_dir_all(first.join("link")).unwrap();
    std::os::unix::fs::symlink(second.join("y/SKILL.md"), first.join("link/SKILL.md")).unwrap();
    let found = discover(&[root(&first), root(&second)], &Limits::default());
    let got: Vec<(&str, &str)> = found
        .skills
        .iter()
        .map(|s| (s.name.as_str(), s.description.as_str()))
        .collect();
    // `link` is `y` (named in its front matter) reached first through the symlink.
    assert_eq!(got, [("y", "why"), ("x", "first")]);
    assert_eq!(found.shadowed.len(), 1);
    assert_eq!(found.shadowed[0].loser_path, second.join("x/SKILL.md"));
}

#[test]
fn pi_places_precedence_and_root_markdown() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let agent = home.join(".pi/agent");
    let cwd = t.path().join("repo/sub");
    std::fs::create_dir_all(t.path().join("repo/.git")).unwrap();
    skill(
        &cwd.join(".pi/skills/dup"),
        "name: dup\ndescription: project",
    );
    skill(&agent.join("skills/dup"), "name: dup\ndescription: user");
    std::fs::write(
        agent.join("skills/loose.md"),
        "---\nname: loose\ndescription: root markdown\n---\n",
    )
    .unwrap();
    skill(
        &t.path().join("repo/.agents/skills/repo-skill"),
        "name: repo-skill\ndescription: repo",
    );
    // Above the git root: not searched.
    skill(
        &t.path().join(".agents/skills/outside"),
        "name: outside\ndescription: no",
    );
    skill(
        &home.join(".agents/skills/mine"),
        "name: mine\ndescription: personal",
    );
    let c = SkillCatalog::pi(&cwd, &agent, Some(&home), &json!({}));
    let got: Vec<(&str, &str)> = c
        .skills
        .iter()
        .map(|s| (s.skill.name.as_str(), s.skill.source))
        .collect();
    assert_eq!(
        got,
        [
            ("dup", "pi-project"),
            ("repo-skill", "agents-skills-project"),
            ("loose", "pi-user"),
            ("mine", "agents-skills-personal"),
        ]
    );
    assert_eq!(c.skills[0].skill.description, "project");
}

#[test]
fn openclaw_places_and_eligibility() {
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("ws");
    let state = t.path().join("state");
    skill(
        &ws.join("skills/gh"),
        "name: gh\ndescription: GitHub.\nmetadata:\n  openclaw:\n    requires:\n      bins: [zz-no-gh]",
    );
    skill(
        &ws.join("skills/win"),
        "name: win\ndescription: Windows only.\nmetadata:\n  openclaw:\n    always: true\n    os: [win32]",
    );
    skill(
        &ws.join("skills/always"),
        "name: always\ndescription: Always.\nmetadata:\n  openclaw:\n    always: true\n    requires:\n      env: [ZZ_NOPE]",
    );
    skill(
        &ws.join("skills/keyed"),
        "name: keyed\ndescription: Key from config.\nmetadata:\n  openclaw:\n    primaryEnv: ZZ_KEY\n    requires:\n      env: [ZZ_KEY]\n      config: [tools.web.enabled]",
    );
    skill(
        &state.join("skills/gh"),
        "name: gh\ndescription: managed gh",
    );
    let config = json!({
        "tools": {"web": {"enabled": true}},
        "skills": {"entries": {"keyed": {"apiKey": "sk-x"}}},
    });
    let c = SkillCatalog::openclaw(&OpenClawPlaces {
        workspace: &ws,
        state_dir: &state,
        home: None,
        config: &config,
        agent_filter: Some(vec!["gh".into(), "always".into(), "keyed".into()]),
    });
    let gh = &c.skills.iter().find(|s| s.skill.name == "gh").unwrap();
    assert_eq!(gh.skill.source, "openclaw-workspace");
    assert!(!gh.eligibility.eligible);
    assert_eq!(gh.reason().unwrap(), "missing bins: zz-no-gh");
    let win = c.skills.iter().find(|s| s.skill.name == "win").unwrap();
    assert_eq!(
        win.eligibility.missing.os,
        ["win32"],
        "always does not override os"
    );
    assert!(win.blocked_by_agent_filter);
    let always = c.skills.iter().find(|s| s.skill.name == "always").unwrap();
    assert!(always.usable());
    let keyed = c.skills.iter().find(|s| s.skill.name == "keyed").unwrap();
    assert!(keyed.usable(), "{:?}", keyed.eligibility);
    let usable: Vec<&str> = c.usable().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(usable, ["always", "keyed"]);
    assert_eq!(c.shadowed.len(), 1);
}

#[test]
fn the_prompt_lists_visible_skills_only_when_read_is_available() {
    let t = tempfile::tempdir().unwrap();
    let agent = t.path().join("agent");
    skill(
        &agent.join("skills/shown"),
        "name: shown\ndescription: Tom & \"Jerry\"",
    );
    skill(
        &agent.join("skills/quiet"),
        "name: quiet\ndescription: q\ndisable-model-invocation: true",
    );
    let c = SkillCatalog::pi(t.path(), &agent, None, &json!({}));
    let block = c.prompt_block();
    let with_read = build_system_prompt(&SystemPromptOptions {
        cwd: t.path().into(),
        tools: vec![ToolLine::new("read", "Read")],
        skills: block.clone(),
        date: Some("2026-12-07".into()),
        ..Default::default()
    });
    let file = agent.join("skills/shown/SKILL.md");
    let expected = format!(
        "\n\nThe following skills provide specialized instructions for specific tasks.\nUse the read tool to load a skill's file when the task matches its description.\nWhen a skill file references a relative path, resolve it against the skill directory (parent of SKILL.md / dirname of the path) and use that absolute path in tool commands.\n\n<available_skills>\n  <skill>\n    <name>shown</name>\n    <description>Tom &amp; &quot;Jerry&quot;</description>\n    <location>{}</location>\n  </skill>\n</available_skills>\nCurrent date: 2026-12-07",
        file.display()
    );
    assert!(with_read.contains(&expected), "{with_read}");
    let without = build_system_prompt(&SystemPromptOptions {
        cwd: t.path().into(),
        tools: vec![ToolLine::new("bash", "Run")],
        skills: block,
        date: Some("2026-12-07".into()),
        ..Default::default()
    });
    assert!(!without.contains("available_skills"));
}

#[test]
fn a_large_catalogue_is_cut_to_the_prompt_budget_with_a_note() {
    let t = tempfile::tempdir().unwrap();
    let agent = t.path().join("agent");
    for i in 0..200 {
        skill(
            &agent.join(format!("skills/s{i:03}")),
            &format!("name: s{i:03}\ndescription: {}", "d".repeat(200)),
        );
    }
    let c = SkillCatalog::pi(t.path(), &agent, None, &json!({}));
    let block = c.prompt_block();
    assert!(block.len() <= 18_000 + 200, "{}", block.len());
    assert!(
        block.contains("Skills truncated: included"),
        "{}",
        &block[..200]
    );
    assert!(block.contains("(descriptions omitted)"));
    assert!(!block.contains("<description>"));
}
