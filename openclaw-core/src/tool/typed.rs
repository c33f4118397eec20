//! Writing a tool as a typed arguments struct plus an async function: [`typed_tool`] derives
//! the parameters schema from the struct (schemars) and deserialises each call's arguments.

use std::future::Future;
use std::marker::PhantomData;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::schema::schema_for;
use super::{Tool, ToolCallContext, ToolError, ToolOutput};

/// Deserialise a call's (already validated) arguments into `A`; a mismatch is a tool error.
pub fn parse_args<A: DeserializeOwned>(tool_name: &str, args: Value) -> Result<A, ToolError> {
    serde_json::from_value(args)
        .map_err(|e| ToolError::new(format!("Invalid arguments for tool \"{tool_name}\": {e}")))
}

/// A [`Tool`] built from a name, a description and an async function of typed arguments.
pub struct TypedTool<A, F> {
    name: String,
    description: String,
    parameters: Value,
    run: F,
    _args: PhantomData<fn(A)>,
}

/// Make a tool from `run`, whose arguments type `A` gives the schema (doc comments become the
/// property descriptions).
///
/// ```
/// use openclaw_core::tool::{typed_tool, Tool, ToolOutput};
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Args {
///     /// Who to greet.
///     name: String,
/// }
/// let tool = typed_tool("greet", "Greet someone", |a: Args, _ctx| async move {
///     Ok(ToolOutput::text(format!("hello {}", a.name)))
/// });
/// assert_eq!(tool.parameters()["required"][0], "name");
/// ```
pub fn typed_tool<A, F, Fut>(
    name: impl Into<String>,
    description: impl Into<String>,
    run: F,
) -> TypedTool<A, F>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(A, ToolCallContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ToolOutput, ToolError>> + Send,
{
    TypedTool {
        name: name.into(),
        description: description.into(),
        parameters: schema_for::<A>(),
        run,
        _args: PhantomData,
    }
}

#[async_trait]
impl<A, F, Fut> Tool for TypedTool<A, F>
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(A, ToolCallContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ToolOutput, ToolError>> + Send,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        self.parameters.clone()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let parsed: A = parse_args(&self.name, args)?;
        (self.run)(parsed, ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Add {
        /// First.
        a: f64,
        /// Second.
        b: f64,
    }

    #[test]
    fn typed_tool_runs_with_parsed_args() {
        let tool = typed_tool("add", "Add two numbers", |x: Add, _ctx| async move {
            Ok(ToolOutput::text(format!("{}", x.a + x.b)))
        });
        assert_eq!(tool.parameters()["properties"]["a"]["type"], "number");
        let out = futures::executor::block_on(
            tool.execute(json!({"a": 1, "b": 2.5}), ToolCallContext::detached("c")),
        )
        .unwrap();
        assert_eq!(out.content[0].as_text(), Some("3.5"));
        let err = futures::executor::block_on(
            tool.execute(json!({"a": "x"}), ToolCallContext::detached("c")),
        )
        .unwrap_err();
        assert!(
            err.message
                .starts_with("Invalid arguments for tool \"add\"")
        );
    }
}
