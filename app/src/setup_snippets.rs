//! The Quick Setup snippets, generated in this one place for every MCP client: with a key (the reveal
//! dialog's tabs) and without one, signing in through OAuth (the keys card's "Connect without a key" panel).
use serde::{Deserialize, Serialize};

/// The environment variable the Codex config names and the Codex shell line exports.
const CODEX_KEY_VARIABLE: &str = "CAREGATE_API_KEY";

/// An MCP client the reveal dialog has a tab for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Client {
    ClaudeCode,
    Codex,
    Cursor,
    Windsurf,
    Generic,
}

/// One text of a Quick Setup tab, with its own Copy button: each goes to one place, and works there as copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupBlock {
    /// Where the text goes, shown above it.
    pub hint: &'static str,
    /// What the text is, as its Copy button ("Copy Codex config") and the announcement after a copy say it.
    pub what: &'static str,
    /// The text, with this server's MCP URL and the key filled in.
    pub text: String,
}

impl Client {
    pub const ALL: [Client; 5] = [Client::ClaudeCode, Client::Codex, Client::Cursor, Client::Windsurf, Client::Generic];

    pub fn tab_label(self) -> &'static str {
        match self {
            Client::ClaudeCode => "Claude Code",
            Client::Codex => "Codex",
            Client::Cursor => "Cursor",
            Client::Windsurf => "Windsurf / Other",
            Client::Generic => "Generic",
        }
    }

    /// The texts of this client's tab, in the order a person uses them.
    pub fn setup(self, url: &str, key: &str) -> Vec<SetupBlock> {
        match self {
            Client::ClaudeCode => vec![SetupBlock {
                hint: "Run this in a terminal:",
                what: "Claude Code command",
                text: format!("claude mcp add --transport http caregate {url} --header \"Authorization: Bearer {key}\""),
            }],
            Client::Codex => vec![
                SetupBlock {
                    hint: "For the Codex CLI and IDE extension, add this to ~/.codex/config.toml:",
                    what: "Codex config",
                    text: format!("[mcp_servers.caregate]\nurl = \"{url}\"\nbearer_token_env_var = \"{CODEX_KEY_VARIABLE}\""),
                },
                SetupBlock {
                    hint: "Then add this line to your shell profile (such as ~/.bashrc or ~/.zshrc) and open a new terminal:",
                    what: "Codex shell line",
                    text: format!("export {CODEX_KEY_VARIABLE}=\"{key}\""),
                },
            ],
            Client::Cursor => vec![SetupBlock {
                hint: "Save as .cursor/mcp.json in your project (or ~/.cursor/mcp.json for every project):",
                what: "Cursor config",
                text: json_config("url", url, key),
            }],
            Client::Windsurf => vec![SetupBlock {
                hint: "Add to ~/.codeium/windsurf/mcp_config.json (other clients use the same shape):",
                what: "Windsurf config",
                text: json_config("serverUrl", url, key),
            }],
            Client::Generic => vec![SetupBlock {
                hint: "For any client that speaks MCP over Streamable HTTP:",
                what: "connection details",
                text: format!("URL:         {url}\nTransport:   Streamable HTTP\nAuth method: Bearer token\nKey:         {key}"),
            }],
        }
    }
}

/// The name MCP clients list caregate under, in every command that adds it.
const SERVER_NAME: &str = "caregate";

/// A client that connects by signing in to caregate (OAuth) instead of with a key, and how: the steps in
/// order, some of them commands with their own Copy button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectGuide {
    pub client: &'static str,
    pub steps: Vec<ConnectStep>,
}

/// One step of a [`ConnectGuide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectStep {
    /// Something to do in the client's own screens.
    Say(&'static str),
    /// A command to run, with what it is for.
    Run(SetupBlock),
}

/// How ChatGPT, claude.ai / Claude Desktop, Claude Code and Codex connect to the MCP endpoint `url` without a
/// key: each adds the URL, then sends the person to caregate's consent page to sign in and allow it.
pub fn connect_guides(url: &str) -> Vec<ConnectGuide> {
    vec![
        ConnectGuide {
            client: "ChatGPT",
            steps: vec![
                ConnectStep::Say("Open Settings → Apps & Connectors (called Connectors on some plans) and add a custom connector."),
                ConnectStep::Say("Paste the MCP URL above as its URL and choose OAuth if it asks how to authenticate."),
                ConnectStep::Say("ChatGPT opens caregate: sign in, check what it may read, and choose Allow."),
            ],
        },
        ConnectGuide {
            client: "claude.ai / Claude Desktop",
            steps: vec![
                ConnectStep::Say("Open Settings → Connectors → Add custom connector."),
                ConnectStep::Say("Paste the MCP URL above, add it, then choose Connect."),
                ConnectStep::Say("Claude opens caregate: sign in, check what it may read, and choose Allow."),
            ],
        },
        ConnectGuide {
            client: "Claude Code",
            steps: vec![
                ConnectStep::Run(SetupBlock {
                    hint: "Run this in a terminal:",
                    what: "Claude Code command without a key",
                    text: format!("claude mcp add --transport http {SERVER_NAME} {url}"),
                }),
                ConnectStep::Say(
                    "Then run /mcp inside Claude Code, pick caregate and choose Authenticate (or run claude mcp login caregate); \
                     your browser opens caregate.",
                ),
            ],
        },
        ConnectGuide {
            client: "Codex",
            steps: vec![
                ConnectStep::Run(SetupBlock {
                    hint: "Run this in a terminal; Codex sees that caregate signs you in and opens it in your browser:",
                    what: "Codex add command",
                    text: format!("codex mcp add {SERVER_NAME} --url {url}"),
                }),
                ConnectStep::Run(SetupBlock {
                    hint: "If the browser did not open, or you stopped the sign-in, sign in later with:",
                    what: "Codex login command",
                    text: format!("codex mcp login {SERVER_NAME}"),
                }),
            ],
        },
    ]
}

fn json_config(url_field: &str, url: &str, key: &str) -> String {
    let value = serde_json::json!({
        "mcpServers": { "caregate": { url_field: url, "headers": { "Authorization": format!("Bearer {key}") } } }
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://care.example/api/mcp";
    const KEY: &str = "cg_live_Ab3dE6gH0123456789abcdefghijKLMNOP";

    fn texts(client: Client) -> Vec<String> {
        client.setup(URL, KEY).into_iter().map(|block| block.text).collect()
    }

    #[test]
    fn the_cursor_snippet_is_json_with_the_url_and_bearer_key() {
        let config: serde_json::Value = serde_json::from_str(&texts(Client::Cursor)[0]).unwrap();
        assert_eq!(config["mcpServers"]["caregate"]["url"], URL);
        assert_eq!(config["mcpServers"]["caregate"]["headers"]["Authorization"], format!("Bearer {KEY}"));
    }

    #[test]
    fn the_windsurf_snippet_uses_server_url() {
        let config: serde_json::Value = serde_json::from_str(&texts(Client::Windsurf)[0]).unwrap();
        assert_eq!(config["mcpServers"]["caregate"]["serverUrl"], URL);
        assert_eq!(config["mcpServers"]["caregate"]["headers"]["Authorization"], format!("Bearer {KEY}"));
    }

    #[test]
    fn the_codex_config_parses_as_toml_on_its_own_and_keeps_the_key_out() {
        let [config, _] = <[String; 2]>::try_from(texts(Client::Codex)).unwrap();
        let config: toml::Table = config.parse().unwrap();
        let server = config["mcp_servers"]["caregate"].as_table().unwrap();
        assert_eq!(server["url"].as_str(), Some(URL));
        assert_eq!(server["bearer_token_env_var"].as_str(), Some(CODEX_KEY_VARIABLE));
        assert_eq!(server.len(), 2, "{server:?}");
    }

    #[test]
    fn the_codex_shell_line_exports_the_variable_the_config_names() {
        let [config, shell] = <[String; 2]>::try_from(texts(Client::Codex)).unwrap();
        let config: toml::Table = config.parse().unwrap();
        let variable = config["mcp_servers"]["caregate"]["bearer_token_env_var"].as_str().unwrap();
        assert_eq!(shell, format!("export {variable}=\"{KEY}\""));
    }

    #[test]
    fn the_claude_code_and_generic_snippets_carry_the_url_and_key() {
        assert_eq!(texts(Client::ClaudeCode), [format!("claude mcp add --transport http caregate {URL} --header \"Authorization: Bearer {KEY}\"")]);
        let generic = &texts(Client::Generic)[0];
        assert!(generic.contains(URL) && generic.contains(KEY) && generic.contains("Streamable HTTP") && generic.contains("Bearer token"));
    }

    #[test]
    fn every_tab_gives_the_url_and_the_key_and_every_copy_button_has_its_own_name() {
        let mut names = std::collections::HashSet::new();
        for client in Client::ALL {
            let blocks = client.setup(URL, KEY);
            assert!(blocks.iter().any(|b| b.text.contains(URL)), "{client:?}");
            assert!(blocks.iter().any(|b| b.text.contains(KEY)), "{client:?}");
            assert!(blocks.iter().all(|b| names.insert(b.what)), "{client:?}");
        }
    }

    fn commands(guide: &ConnectGuide) -> Vec<String> {
        guide
            .steps
            .iter()
            .filter_map(|step| match step {
                ConnectStep::Run(block) => Some(block.text.clone()),
                ConnectStep::Say(_) => None,
            })
            .collect()
    }

    fn guide(client: &str) -> ConnectGuide {
        connect_guides(URL).into_iter().find(|guide| guide.client == client).unwrap()
    }

    #[test]
    fn claude_code_adds_the_url_without_a_header_and_authenticates_in_mcp() {
        let claude = guide("Claude Code");
        assert_eq!(commands(&claude), [format!("claude mcp add --transport http caregate {URL}")]);
        assert!(claude.steps.iter().any(|step| matches!(step, ConnectStep::Say(text) if text.contains("/mcp") && text.contains("Authenticate"))));
    }

    #[test]
    fn codex_adds_the_url_then_logs_in_to_the_server_it_added() {
        assert_eq!(commands(&guide("Codex")), [format!("codex mcp add caregate --url {URL}"), "codex mcp login caregate".to_owned()]);
    }

    #[test]
    fn the_web_connectors_paste_the_url_and_no_guide_mentions_a_key() {
        for client in ["ChatGPT", "claude.ai / Claude Desktop"] {
            let guide = guide(client);
            assert!(guide.steps.iter().any(|step| matches!(step, ConnectStep::Say(text) if text.contains("MCP URL"))), "{client}");
        }
        for guide in connect_guides(URL) {
            for step in &guide.steps {
                let text = match step {
                    ConnectStep::Say(text) => text,
                    ConnectStep::Run(block) => block.text.as_str(),
                };
                assert!(!text.contains("Bearer") && !text.contains("--header") && !text.contains(KEY), "{}: {text}", guide.client);
            }
        }
    }

    #[test]
    fn every_copy_button_without_a_key_has_a_name_of_its_own() {
        let mut names: std::collections::HashSet<&str> = Client::ALL.into_iter().flat_map(|c| c.setup(URL, KEY)).map(|b| b.what).collect();
        for guide in connect_guides(URL) {
            for step in guide.steps {
                if let ConnectStep::Run(block) = step {
                    assert!(names.insert(block.what), "{}", block.what);
                }
            }
        }
    }
}
