//! The built-in tool set: [`ToolEnv`] (the working directory and shell settings the tools run
//! with) and constructors for the built-ins by name, pi's default active set and the full set.

use std::path::PathBuf;
use std::sync::Arc;

use super::limits::ExecSettings;
use super::spill::SpillFiles;
use super::{BashTool, EditTool, FindTool, GrepTool, LsTool, ReadTool, Tool, WriteTool};

/// pi's default active tools.
pub const DEFAULT_TOOL_NAMES: [&str; 4] = ["read", "bash", "edit", "write"];
/// Every built-in tool, in pi's order.
pub const ALL_TOOL_NAMES: [&str; 7] = ["read", "bash", "edit", "write", "grep", "find", "ls"];

/// What the built-in tools run with.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolEnv {
    /// Relative paths resolve here; `bash` runs here.
    pub cwd: PathBuf,
    /// The shell for `bash` (pi's `shellPath` setting); default `/bin/bash`, else `bash` on
    /// PATH, else `sh`.
    pub shell_path: Option<PathBuf>,
    /// A line run before every `bash` command (pi's `shellCommandPrefix`).
    pub shell_command_prefix: Option<String>,
    /// A directory put first on `bash`'s PATH (pi's `<agentDir>/bin`).
    pub bin_dir: Option<PathBuf>,
    /// Whether `read` may shrink images to fit 2000x2000 (pi's `images.autoResize`).
    pub auto_resize_images: bool,
    /// `bash`'s default timeout, spill-file cap and resource limits (`tools.exec`).
    pub exec: ExecSettings,
    /// The output files `bash` results point at (removed with the environment).
    pub spill: SpillFiles,
    /// Where `bash` runs: the host, a sandbox, or nowhere (a refusal with its reason).
    pub exec_target: crate::sandbox::ExecTarget,
    /// Added to `bash`'s environment on the host (a gateway run's skill env).
    pub extra_env: super::shell::ExtraEnv,
}

impl ToolEnv {
    /// Defaults for a working directory.
    pub fn new(cwd: impl Into<PathBuf>) -> Self {
        ToolEnv {
            cwd: cwd.into(),
            shell_path: None,
            shell_command_prefix: None,
            bin_dir: None,
            auto_resize_images: true,
            exec: ExecSettings::default(),
            spill: SpillFiles::default(),
            exec_target: crate::sandbox::ExecTarget::Host,
            extra_env: Default::default(),
        }
    }
}

/// The built-in tool called `name`, if there is one.
pub fn builtin_tool(name: &str, env: &Arc<ToolEnv>) -> Option<Arc<dyn Tool>> {
    let env = env.clone();
    let tool: Arc<dyn Tool> = match name {
        "read" => Arc::new(ReadTool::new(env)),
        "bash" => Arc::new(BashTool::new(env)),
        "edit" => Arc::new(EditTool::new(env)),
        "write" => Arc::new(WriteTool::new(env)),
        "grep" => Arc::new(GrepTool::new(env)),
        "find" => Arc::new(FindTool::new(env)),
        "ls" => Arc::new(LsTool::new(env)),
        _ => return None,
    };
    Some(tool)
}

/// The built-ins named in `names`, in that order; unknown names are skipped.
pub fn builtin_tools<S: AsRef<str>>(names: &[S], env: &Arc<ToolEnv>) -> Vec<Arc<dyn Tool>> {
    names
        .iter()
        .filter_map(|n| builtin_tool(n.as_ref(), env))
        .collect()
}

/// pi's default active set: read, bash, edit, write.
pub fn default_tools(env: &Arc<ToolEnv>) -> Vec<Arc<dyn Tool>> {
    builtin_tools(&DEFAULT_TOOL_NAMES, env)
}

/// All seven built-ins.
pub fn all_tools(env: &Arc<ToolEnv>) -> Vec<Arc<dyn Tool>> {
    builtin_tools(&ALL_TOOL_NAMES, env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_by_name() {
        let env = Arc::new(ToolEnv::new("/tmp"));
        let names: Vec<String> = default_tools(&env)
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        assert_eq!(names, ["read", "bash", "edit", "write"]);
        let all: Vec<String> = all_tools(&env)
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        assert_eq!(all, ALL_TOOL_NAMES);
        assert!(builtin_tool("nope", &env).is_none());
        for t in all_tools(&env) {
            let p = t.parameters();
            assert_eq!(p["type"], "object", "{}", t.name());
            assert!(p["properties"].is_object());
        }
    }
}
