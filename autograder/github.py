"""The GitHub side of grading on every push: one client (PyGithub), its token, and what its errors mean.

Only the instructor's verbs ``fetch`` and ``publish`` talk to GitHub, and neither runs student code
(DESIGN principle 7). The token comes from ``$AUTOGRADER_GITHUB_TOKEN`` alone, never from the workflow's
own ``GITHUB_TOKEN``; the API from ``--api-url``, else ``$GITHUB_API_URL`` (GitHub Enterprise sets it),
else https://api.github.com.

Reads are retried a few times on a server error; writes are not (a retried comment would be posted
twice). A rate limit is never waited out: the verb stops, says so, and leaves the rest to the next
scheduled run, which finds those commits still without a status.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TOKEN_VARIABLE = "AUTOGRADER_GITHUB_TOKEN"
DEFAULT_API = "https://api.github.com"
CONTEXT = "autograder"             # the commit status that records a graded commit
READ_RETRIES = 3


class HubError(Exception):
    """Nothing can be done with this token or API (no token, bad credentials, no permission): exit 1."""


@dataclass(frozen=True)
class Pace:
    """Seconds between writes (GitHub asks for one second between them; reads need no pause) and the backoff
    factor of read retries. ``$AUTOGRADER_API_PACE=0`` turns both off (the tests' fake API)."""

    reads: float = 0.0
    writes: float = 1.0
    backoff: float = 1.0

    @classmethod
    def from_environment(cls) -> Pace:
        value = os.environ.get("AUTOGRADER_API_PACE")
        return cls(0.0, 0.0, 0.0) if value is not None and float(value) == 0 else cls()


def api_url(given: str | None) -> str:
    return (given or os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")


def token_from_environment() -> str:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise HubError(f"${TOKEN_VARIABLE} is not set: it holds the token that reads the students' repositories "
                       "and posts their results (README, 'Scores on every push')")
    return token


CONNECTIONS = 8      # reads in flight at once (fetch); GitHub allows 100, and asks for few


def client(api: str, token: str, pace: Pace | None = None):
    """A PyGithub client of ``api``: lazy objects (a request only when data is needed), GETs retried on 5xx,
    a connection pool for :data:`CONNECTIONS` threads."""
    from github import Auth, Github
    from urllib3.util.retry import Retry

    pace = pace or Pace.from_environment()
    retry = Retry(total=READ_RETRIES, backoff_factor=pace.backoff, status_forcelist=(500, 502, 503, 504),
                  allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False,
                  respect_retry_after_header=False)
    return Github(base_url=api, auth=Auth.Token(token), retry=retry, timeout=30, lazy=True,
                  seconds_between_requests=pace.reads or None, seconds_between_writes=pace.writes or None,
                  user_agent="cnn-course-autograder", pool_size=CONNECTIONS)


def rate_limited(error: Exception) -> bool:
    """GitHub's primary or secondary rate limit (403 or 429)."""
    from github import GithubException, RateLimitExceededException

    if isinstance(error, RateLimitExceededException):
        return True
    if isinstance(error, GithubException):
        remaining = {key.lower(): value for key, value in (error.headers or {}).items()}.get("x-ratelimit-remaining")
        return error.status == 429 or (error.status == 403 and remaining == "0")
    return False


def fatal(error: Exception) -> bool:
    """The token itself is refused: nothing later would work either."""
    from github import BadCredentialsException, GithubException

    if isinstance(error, BadCredentialsException):
        return True
    return isinstance(error, GithubException) and error.status in (401, 403) and not rate_limited(error)


def vanished(error: Exception) -> bool:
    from github import GithubException

    return isinstance(error, GithubException) and error.status in (404, 410)


def describe(error: Exception) -> str:
    """One line for a person: the status and GitHub's own message."""
    from github import GithubException

    if isinstance(error, GithubException):
        message = error.data.get("message") if isinstance(error.data, dict) else error.data
        return f"HTTP {error.status}: {message or error.message or 'no message'}"
    return f"{type(error).__name__}: {error}"


def transient(error: Exception) -> bool:
    """Worth another try on a later run: rate limits, server errors, a broken connection."""
    import requests
    from github import GithubException

    if rate_limited(error):
        return True
    if isinstance(error, GithubException):
        return error.status >= 500
    return isinstance(error, (requests.RequestException, ConnectionError, TimeoutError))


def step_outputs(**values) -> None:
    """Step outputs in GitHub Actions (``$GITHUB_OUTPUT``); nothing elsewhere."""
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())
