//! The Hugging Face hub as `gem pull` talks to it, through the `hf-hub` crate: where it is
//! (`HF_ENDPOINT`), the token (`HF_TOKEN`), the cache (`HF_HUB_CACHE` / `HF_HOME`), a
//! repository's file listing (`/api/models/ORG/REPO/revision/main?blobs=true`) and a file's
//! ETag, commit and size (`/ORG/REPO/resolve/REV/FILE`, hf-hub's `metadata`). The transfer
//! itself is `pull_transfer`'s, on a [`ureq`] agent of the same family that resumes.

use std::path::PathBuf;
use std::time::Duration;

use hf_hub::api::sync::{Api, ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};
use serde::Deserialize;

use super::pull_error::PullError;

/// The public hub, when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Where the hub is, where files go, and who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// The hub's base URL, without a trailing slash.
    pub endpoint: String,
    /// The hub cache (`…/huggingface/hub`), holding `models--ORG--REPO` folders.
    pub cache_dir: PathBuf,
    /// The access token, if any.
    pub token: Option<String>,
}

impl HubConfig {
    /// The configuration the Hugging Face tools share: `HF_ENDPOINT`, the hub cache discovery
    /// reads ([`super::hf_cache::hub_dir`]), `HF_TOKEN` (else the token file `hf auth login`
    /// writes: `HF_TOKEN_PATH`, else `HF_HOME/token`).
    pub fn from_env() -> Result<Self, PullError> {
        let endpoint = non_empty_env("HF_ENDPOINT")
            .map(|e| e.trim_end_matches('/').to_string())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let cache_dir = super::hf_cache::hub_dir().ok_or(PullError::NoCacheDir)?;
        let token = non_empty_env("HF_TOKEN").or_else(|| {
            let path = non_empty_env("HF_TOKEN_PATH")
                .map(PathBuf::from)
                .or_else(|| hf_home().map(|home| home.join("token")))?;
            let text = std::fs::read_to_string(path).ok()?;
            Some(text.trim().to_string()).filter(|t| !t.is_empty())
        });
        Ok(Self {
            endpoint,
            cache_dir,
            token,
        })
    }
}

/// `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
fn hf_home() -> Option<PathBuf> {
    non_empty_env("HF_HOME").map(PathBuf::from).or_else(|| {
        let cache = non_empty_env("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".cache")))?;
        Some(cache.join("huggingface"))
    })
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A repository's files at one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoListing {
    /// The commit `main` points at.
    pub commit: String,
    /// Every file, with size and LFS sha256 where the hub gives them.
    pub files: Vec<RepoFile>,
}

/// One file of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFile {
    /// The repository path.
    pub path: String,
    /// Its size, if listed.
    pub size: Option<u64>,
    /// The LFS sha256 (what the hub's ETag is for LFS files), if listed.
    pub sha256: Option<String>,
}

/// A file's identity as the resolve endpoint states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The ETag (`X-Linked-Etag` for LFS files): the blob's name in the cache.
    pub etag: String,
    /// `X-Repo-Commit`: the snapshot folder.
    pub commit: String,
    /// The file's size.
    pub size: u64,
    /// The URL to fetch it from.
    pub url: String,
}

/// A connection to the hub.
pub struct Hub {
    config: HubConfig,
    api: Api,
    agent: ureq::Agent,
}

impl Hub {
    /// A client for `config` (nothing is sent yet).
    pub fn new(config: HubConfig) -> Result<Self, PullError> {
        let api = ApiBuilder::from_cache(Cache::new(config.cache_dir.clone()))
            .with_endpoint(config.endpoint.clone())
            .with_token(config.token.clone())
            .with_progress(false)
            .with_user_agent("gem", env!("CARGO_PKG_VERSION"))
            .build()
            .map_err(|e| api_error(&config, "", &config.endpoint, e))?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .user_agent(format!("gem/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Self { config, api, agent })
    }

    /// The configuration in use.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The agent transfers go through (no status-as-error: the caller reads every status).
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// `Authorization: Bearer …` when a token is set.
    pub fn authorization(&self) -> Option<String> {
        self.config.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    /// The files of `repo` at `main`, with sizes and LFS hashes.
    pub fn listing(&self, repo: &str) -> Result<RepoListing, PullError> {
        let api_repo = self.api.repo(Repo::with_revision(
            repo.to_string(),
            RepoType::Model,
            "main".to_string(),
        ));
        let url = format!("{}/api/models/{repo}/revision/main", self.config.endpoint);
        let mut response = api_repo
            .info_request()
            .query("blobs", "true")
            .config()
            .http_status_as_error(false)
            // hf-hub's agent has no timeouts: a black-holed hub must not hang the first request.
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .call()
            .map_err(|e| transport_error(&self.config, &url, e))?;
        let status = response.status().as_u16();
        if status != 200 {
            let error_code = response
                .headers()
                .get("x-error-code")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            return Err(self.refusal(repo, &url, status, &error_code));
        }
        let info: InfoJson = response
            .body_mut()
            .read_json()
            .map_err(|e| PullError::Protocol {
                what: format!("an unreadable listing ({e})"),
                url: url.clone(),
            })?;
        Ok(RepoListing {
            commit: info.sha,
            files: info
                .siblings
                .into_iter()
                .map(|s| RepoFile {
                    size: s.lfs.as_ref().map(|l| l.size).or(s.size),
                    sha256: s.lfs.map(|l| l.sha256.to_ascii_lowercase()),
                    path: s.rfilename,
                })
                .collect(),
        })
    }

    /// ETag, commit and size of `file` at `commit`, through hf-hub's resolve request.
    pub fn file_meta(&self, repo: &str, commit: &str, file: &str) -> Result<FileMeta, PullError> {
        let api_repo = self.api.repo(Repo::with_revision(
            repo.to_string(),
            RepoType::Model,
            commit.to_string(),
        ));
        let url = api_repo.url(file);
        let meta = self
            .api
            .metadata(&url)
            .map_err(|e| api_error(&self.config, repo, &url, e))?;
        let etag = normalize_etag(meta.etag());
        if etag.is_empty() || etag.contains(['/', '\\']) || etag.starts_with('.') {
            return Err(PullError::Protocol {
                what: format!("an unusable ETag {:?}", meta.etag()),
                url,
            });
        }
        Ok(FileMeta {
            etag,
            commit: meta.commit_hash().to_string(),
            size: meta.size() as u64,
            url,
        })
    }

    /// The error for a 4xx/5xx from the hub about `repo`.
    pub fn refusal(&self, repo: &str, url: &str, status: u16, error_code: &str) -> PullError {
        let repo_owned = repo.to_string();
        match (status, error_code) {
            (_, "RepoNotFound") | (404, _) => PullError::RepoNotFound {
                repo: repo_owned,
                endpoint: self.config.endpoint.clone(),
            },
            (401 | 403, _) if self.config.token.is_none() => {
                PullError::GatedNoToken { repo: repo_owned }
            }
            (401 | 403, _) => PullError::TokenRefused {
                repo: repo_owned,
                status,
            },
            _ => PullError::Protocol {
                what: format!("HTTP {status}"),
                url: url.to_string(),
            },
        }
    }
}

/// The listing JSON's fields gem reads.
#[derive(Deserialize)]
struct InfoJson {
    sha: String,
    #[serde(default)]
    siblings: Vec<SiblingJson>,
}

#[derive(Deserialize)]
struct SiblingJson {
    rfilename: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    lfs: Option<LfsJson>,
}

#[derive(Deserialize)]
struct LfsJson {
    sha256: String,
    size: u64,
}

/// An ETag without quotes or the weak marker, lower-case: `W/"ABC"` → `abc`.
fn normalize_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_ascii_lowercase()
}

/// hf-hub's error, as the user should read it.
fn api_error(config: &HubConfig, repo: &str, url: &str, error: ApiError) -> PullError {
    match error {
        ApiError::RequestError(e) => match *e {
            ureq::Error::StatusCode(status) => match status {
                401 | 403 if config.token.is_none() => PullError::GatedNoToken {
                    repo: repo.to_string(),
                },
                401 | 403 => PullError::TokenRefused {
                    repo: repo.to_string(),
                    status,
                },
                _ => PullError::Protocol {
                    what: format!("HTTP {status}"),
                    url: url.to_string(),
                },
            },
            other => transport_error(config, url, other),
        },
        other => PullError::Protocol {
            what: other.to_string(),
            url: url.to_string(),
        },
    }
}

/// A transport failure: the hub is unreachable, or spoke garbage.
pub fn transport_error(config: &HubConfig, url: &str, error: ureq::Error) -> PullError {
    match error {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Timeout(_)
        | ureq::Error::Io(_) => PullError::Unreachable {
            endpoint: config.endpoint.clone(),
            reason: error.to_string(),
        },
        other => PullError::Protocol {
            what: other.to_string(),
            url: url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_lose_quotes_and_the_weak_marker() {
        assert_eq!(normalize_etag("\"ABC123\""), "abc123");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
    }
}
