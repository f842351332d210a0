//! The Quick Setup snippets of the reveal dialog, generated in this one place for every MCP client.
use serde::{Deserialize, Serialize};

/// An MCP client the reveal dialog has a tab for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Client {
    ClaudeCode,
    Codex,
    Cursor,
    Windsurf,
    Generic,
}

impl Client {
    pub const ALL: [Client; 5] = [Client::ClaudeCode, Client::Codex, Client::Cursor, Client::Windsurf, Client::Generic];

    pub fn tab_label(self) -> &'static str {
        match self {
            Client::ClaudeCode => "Claude Code",
            Client::Codex => "ChatGPT / Codex",
            Client::Cursor => "Cursor",
            Client::Windsurf => "Windsurf / Other",
            Client::Generic => "Generic",
        }
    }

    /// A one-line hint shown above the snippet.
    pub fn hint(self) -> &'static str {
        match self {
            Client::ClaudeCode => "Run this in a terminal:",
            Client::Codex => "Add this to ~/.codex/config.toml, then export the key in your shell. ChatGPT's web connectors accept OAuth only, so use the Codex CLI.",
            Client::Cursor => "Save as .cursor/mcp.json in your project (or ~/.cursor/mcp.json for every project):",
            Client::Windsurf => "Add to ~/.codeium/windsurf/mcp_config.json (other clients use the same shape):",
            Client::Generic => "For any client that speaks MCP over Streamable HTTP:",
        }
    }

    /// The snippet, with this server's MCP URL and the key filled in.
    pub fn snippet(self, url: &str, key: &str) -> String {
        match self {
            Client::ClaudeCode => format!("claude mcp add --transport http caregate {url} --header \"Authorization: Bearer {key}\""),
            Client::Codex => format!(
                "[mcp_servers.caregate]\nurl = \"{url}\"\nbearer_token_env_var = \"CAREGATE_API_KEY\"\n\n# in your shell profile:\nexport CAREGATE_API_KEY=\"{key}\""
            ),
            Client::Cursor => json_config("mcpServers", "url", url, key),
            Client::Windsurf => json_config("mcpServers", "serverUrl", url, key),
            Client::Generic => format!("URL:         {url}\nTransport:   Streamable HTTP\nAuth method: Bearer token\nKey:         {key}"),
        }
    }
}

fn json_config(root: &str, url_field: &str, url: &str, key: &str) -> String {
    let value = serde_json::json!({
        root: { "caregate": { url_field: url, "headers": { "Authorization": format!("Bearer {key}") } } }
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://care.example/api/mcp";
    const KEY: &str = "cg_live_Ab3dE6gH0123456789abcdefghijKLMNOP";

    #[test]
    fn the_cursor_snippet_is_json_with_the_url_and_bearer_key() {
        let config: serde_json::Value = serde_json::from_str(&Client::Cursor.snippet(URL, KEY)).unwrap();
        assert_eq!(config["mcpServers"]["caregate"]["url"], URL);
        assert_eq!(config["mcpServers"]["caregate"]["headers"]["Authorization"], format!("Bearer {KEY}"));
    }

    #[test]
    fn the_windsurf_snippet_uses_server_url() {
        let config: serde_json::Value = serde_json::from_str(&Client::Windsurf.snippet(URL, KEY)).unwrap();
        assert_eq!(config["mcpServers"]["caregate"]["serverUrl"], URL);
        assert_eq!(config["mcpServers"]["caregate"]["headers"]["Authorization"], format!("Bearer {KEY}"));
    }

    #[test]
    fn the_codex_snippet_is_toml_naming_the_env_var_it_exports() {
        let snippet = Client::Codex.snippet(URL, KEY);
        let (toml_part, shell_part) = snippet.split_once("\n\n").unwrap();
        let config: toml::Table = toml_part.parse().unwrap();
        let server = config["mcp_servers"]["caregate"].as_table().unwrap();
        assert_eq!(server["url"].as_str(), Some(URL));
        let variable = server["bearer_token_env_var"].as_str().unwrap();
        assert!(shell_part.contains(&format!("export {variable}=\"{KEY}\"")), "{shell_part}");
    }

    #[test]
    fn the_claude_code_and_generic_snippets_carry_the_url_and_key() {
        assert_eq!(
            Client::ClaudeCode.snippet(URL, KEY),
            format!("claude mcp add --transport http caregate {URL} --header \"Authorization: Bearer {KEY}\"")
        );
        let generic = Client::Generic.snippet(URL, KEY);
        assert!(generic.contains(URL) && generic.contains(KEY) && generic.contains("Streamable HTTP") && generic.contains("Bearer token"));
    }
}
