"""A small GitHub REST API on 127.0.0.1, over local bare git repositories, for the tests of fetch and publish.

It answers the endpoints the autograder uses, with the request and response shapes of GitHub's REST
documentation (docs.github.com/rest: repos, branches, commits, commit statuses, commit comments,
contents, git blobs, organisation repositories), checks the token on every request, and can be told to
fail: ``server.fail("GET", r"/branches/", status=502, times=2)``, or to answer with a rate limit.
What was posted is kept in ``server.statuses`` and ``server.comments``, every request in ``server.log``.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

DOCS = "https://docs.github.com/rest"
PRIMARY = {"message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please "
                      "include the request ID.", "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api"}
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
             "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    body: dict
    headers: dict
    times: int


class FakeGitHub:
    """``with FakeGitHub(token) as api:`` serves at ``api.url``; ``api.add(full_name, bare_repo)`` adds a repo."""

    def __init__(self, token: str):
        self.token = token
        self.repos: dict[str, Path] = {}
        self.statuses: dict[tuple[str, str], list[dict]] = {}
        self.comments: dict[tuple[str, str], list[dict]] = {}
        self.log: list[tuple[str, str, bool]] = []          # (method, path, token given)
        self.faults: list[Fault] = []
        self.inline_limit = 1_000_000      # the contents API leaves bigger files out
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeGitHub:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, full_name: str, bare: Path) -> None:
        self.repos[full_name] = Path(bare)

    def fail(self, method: str, pattern: str, status: int = 502, body: dict | None = None,
             headers: dict | None = None, times: int = 1) -> None:
        self.faults.append(Fault(method, pattern, status, body or {"message": "Server Error"}, headers or {}, times))

    def rate_limit(self, method: str, pattern: str, secondary: bool = False, times: int = 1) -> None:
        if secondary:
            self.fail(method, pattern, 429, SECONDARY, {"retry-after": "60"}, times)
        else:
            reset = str(int(time.time()) + 3600)
            self.fail(method, pattern, 403, PRIMARY, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}, times)

    def posted(self, full_name: str, sha: str) -> tuple[list[dict], list[dict]]:
        return self.statuses.get((full_name, sha), []), self.comments.get((full_name, sha), [])

    # -- the repositories, read with git ---------------------------------------------------------

    def git(self, full_name: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=self.repos[full_name], capture_output=True)

    def default_branch(self, full_name: str) -> str:
        head = self.git(full_name, "symbolic-ref", "--short", "HEAD").stdout.decode().strip()
        return head or "main"

    def resolve(self, full_name: str, ref: str) -> str | None:
        run = self.git(full_name, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return run.stdout.decode().strip() or None


def _handler(api: FakeGitHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True      # headers and body go out in two writes: no 40 ms stall between

        def log_message(self, *args) -> None:     # quiet
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            parsed = urlparse(self.path)
            path, query = unquote(parsed.path), parse_qs(parsed.query)
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}") if length else {}
            given = self.headers.get("Authorization", "")
            authorised = given in (f"token {api.token}", f"Bearer {api.token}")
            with api._lock:
                api.log.append((method, path, authorised))
            if not authorised:
                return self._send(401, {"message": "Bad credentials", "documentation_url": DOCS})
            for fault in api.faults:
                with api._lock:
                    hit = fault.times > 0 and fault.method == method and re.search(fault.pattern, path)
                    if hit:
                        fault.times -= 1
                if hit:
                    return self._send(fault.status, fault.body, fault.headers)
            try:
                status, body, headers = _route(api, method, path, query, payload, self._base())
            except KeyError:
                status, body, headers = 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            self._send(status, body, headers)

        def _base(self) -> str:
            return api.url

        def _send(self, status: int, body, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            limits = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
                      "x-ratelimit-reset": str(int(time.time()) + 3600), "x-ratelimit-resource": "core"}
            limits.update({key.lower(): value for key, value in (headers or {}).items()})
            for key, value in limits.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _route(api: FakeGitHub, method: str, path: str, query: dict, payload: dict, base: str):
    """(status, body, headers) for one request; KeyError for anything unknown (404)."""
    parts = [part for part in path.split("/") if part]
    if parts[:1] == ["orgs"] and parts[1] not in {name.split("/")[0] for name in api.repos}:
        raise KeyError(parts[1])
    if parts[:1] == ["orgs"] and len(parts) == 2 and method == "GET":
        return 200, {"login": parts[1], "id": 1, "type": "Organization", "url": f"{base}/orgs/{parts[1]}",
                     "repos_url": f"{base}/orgs/{parts[1]}/repos"}, {}
    if parts[:1] == ["orgs"] and parts[2:] == ["repos"] and method == "GET":
        names = sorted(name for name in api.repos if name.split("/")[0] == parts[1])
        per_page, page = int(query.get("per_page", ["30"])[0]), int(query.get("page", ["1"])[0])
        chunk = names[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(names):
            headers["link"] = f'<{base}/orgs/{parts[1]}/repos?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, [_repo(api, name, base) for name in chunk], headers
    if parts[:1] != ["repos"] or len(parts) < 3:
        raise KeyError(path)
    full_name = f"{parts[1]}/{parts[2]}"
    if full_name not in api.repos or not api.repos[full_name].exists():
        raise KeyError(full_name)
    rest = parts[3:]
    if not rest and method == "GET":
        return 200, _repo(api, full_name, base), {}
    if rest[:1] == ["branches"] and len(rest) == 2 and method == "GET":
        sha = api.resolve(full_name, f"refs/heads/{rest[1]}")
        if sha is None:
            raise KeyError(rest[1])
        return 200, {"name": rest[1], "commit": _commit(api, full_name, sha, base), "protected": False,
                     "_links": {"self": f"{base}/repos/{full_name}/branches/{rest[1]}"}}, {}
    if rest[:1] == ["commits"] and len(rest) == 2 and method == "GET":
        sha = api.resolve(full_name, rest[1])
        if sha is None:
            return 422, {"message": f"No commit found for SHA: {rest[1]}", "documentation_url": DOCS}, {}
        return 200, _commit(api, full_name, sha, base), {}
    if rest[:1] == ["commits"] and rest[2:] == ["status"] and method == "GET":
        sha = api.resolve(full_name, rest[1])
        if sha is None:
            raise KeyError(rest[1])
        latest: dict[str, dict] = {}
        for status in api.statuses.get((full_name, sha), []):
            latest[status["context"]] = status          # newest per context
        statuses = sorted(latest.values(), key=lambda status: -status["id"])
        states = {status["state"] for status in statuses}
        state = ("failure" if states & {"failure", "error"} else "pending" if "pending" in states or not states
                 else "success")
        return 200, {"state": state, "statuses": statuses, "sha": sha, "total_count": len(statuses),
                     "repository": _repo(api, full_name, base),
                     "commit_url": f"{base}/repos/{full_name}/commits/{sha}",
                     "url": f"{base}/repos/{full_name}/commits/{sha}/status"}, {}
    if rest[:1] == ["statuses"] and len(rest) == 2 and method == "POST":
        if payload.get("state") not in ("error", "failure", "pending", "success"):
            return 422, {"message": "Validation Failed", "documentation_url": DOCS}, {}
        if len(payload.get("description") or "") > 140:
            return 422, {"message": "Validation Failed: description is too long (maximum is 140 characters)",
                         "documentation_url": DOCS}, {}
        sha = api.resolve(full_name, rest[1])
        if sha is None:
            return 422, {"message": f"No commit found for SHA: {rest[1]}", "documentation_url": DOCS}, {}
        number = next(api._ids)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status = {"id": number, "node_id": f"SC_{number}", "url": f"{base}/repos/{full_name}/statuses/{sha}",
                  "state": payload["state"], "description": payload.get("description"),
                  "target_url": payload.get("target_url"), "context": payload.get("context", "default"),
                  "created_at": stamp, "updated_at": stamp, "creator": _user("grader-bot", base)}
        api.statuses.setdefault((full_name, sha), []).append(status)
        return 201, status, {}
    if rest[:1] == ["commits"] and rest[2:] == ["comments"] and method == "GET":
        sha = api.resolve(full_name, rest[1])
        if sha is None:
            raise KeyError(rest[1])
        return 200, list(api.comments.get((full_name, sha), [])), {}
    if rest[:1] == ["commits"] and rest[2:] == ["comments"] and method == "POST":
        sha = api.resolve(full_name, rest[1])
        if sha is None:
            return 422, {"message": f"No commit found for SHA: {rest[1]}", "documentation_url": DOCS}, {}
        if len(payload.get("body") or "") > 65536:
            return 422, {"message": "Validation Failed: body is too long (maximum is 65536 characters)",
                         "documentation_url": DOCS}, {}
        number = next(api._ids)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        comment = {"id": number, "node_id": f"CC_{number}", "body": payload["body"], "commit_id": sha,
                   "html_url": f"https://github.example/{full_name}/commit/{sha}#commitcomment-{number}",
                   "url": f"{base}/repos/{full_name}/comments/{number}", "path": None, "position": None,
                   "line": None, "user": _user("grader-bot", base), "created_at": stamp, "updated_at": stamp,
                   "author_association": "MEMBER"}
        api.comments.setdefault((full_name, sha), []).append(comment)
        return 201, comment, {}
    if rest[:1] == ["contents"] and method == "GET":
        target = "/".join(rest[1:])
        sha = api.resolve(full_name, query.get("ref", [api.default_branch(full_name)])[0])
        if sha is None:
            raise KeyError(target)
        kind = api.git(full_name, "cat-file", "-t", f"{sha}:{target}").stdout.decode().strip()
        if kind == "tree":
            listing = api.git(full_name, "ls-tree", "-l", f"{sha}:{target}").stdout.decode().splitlines()
            entries = []
            for line in listing:
                info, name = line.split("\t", 1)
                _, kind_, blob, size = info.split()
                entries.append(_content(full_name, f"{target}/{name}", blob, int(size) if size != "-" else 0,
                                        "file" if kind_ == "blob" else "dir", base))
            return 200, entries, {}
        if kind != "blob":
            raise KeyError(target)
        blob = api.git(full_name, "rev-parse", f"{sha}:{target}").stdout.decode().strip()
        data = api.git(full_name, "cat-file", "blob", blob).stdout
        entry = _content(full_name, target, blob, len(data), "file", base)
        if len(data) <= api.inline_limit:
            entry.update(content=base64.encodebytes(data).decode(), encoding="base64")
        else:
            entry.update(content="", encoding="none")
        return 200, entry, {}
    if rest[:2] == ["git", "blobs"] and len(rest) == 3 and method == "GET":
        data = api.git(full_name, "cat-file", "blob", rest[2])
        if data.returncode != 0:
            raise KeyError(rest[2])
        return 200, {"sha": rest[2], "node_id": f"B_{rest[2][:8]}", "size": len(data.stdout),
                     "url": f"{base}/repos/{full_name}/git/blobs/{rest[2]}",
                     "content": base64.encodebytes(data.stdout).decode(), "encoding": "base64"}, {}
    raise KeyError(path)


def _user(login: str, base: str) -> dict:
    return {"login": login, "id": 7, "type": "User", "url": f"{base}/users/{login}"}


def _repo(api: FakeGitHub, full_name: str, base: str) -> dict:
    owner, name = full_name.split("/")
    return {"id": abs(hash(full_name)) % 10**8, "node_id": f"R_{name}", "name": name, "full_name": full_name,
            "owner": _user(owner, base), "private": True, "default_branch": api.default_branch(full_name),
            "url": f"{base}/repos/{full_name}", "html_url": f"https://github.example/{full_name}",
            "clone_url": f"https://github.example/{full_name}.git", "archived": False}


def _commit(api: FakeGitHub, full_name: str, sha: str, base: str) -> dict:
    fields = api.git(full_name, "show", "-s", "--format=%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%s",
                     sha).stdout.decode().rstrip("\n").split("\x00")
    author = {"name": fields[0], "email": fields[1], "date": fields[2]}
    committer = {"name": fields[3], "email": fields[4], "date": fields[5]}
    return {"sha": sha, "node_id": f"C_{sha[:8]}", "url": f"{base}/repos/{full_name}/commits/{sha}",
            "html_url": f"https://github.example/{full_name}/commit/{sha}",
            "comments_url": f"{base}/repos/{full_name}/commits/{sha}/comments",
            "commit": {"author": author, "committer": committer, "message": fields[6],
                       "url": f"{base}/repos/{full_name}/git/commits/{sha}", "comment_count": 0},
            "author": None, "committer": None, "parents": []}


def _content(full_name: str, path: str, blob: str, size: int, kind: str, base: str) -> dict:
    return {"type": kind, "size": size, "name": path.rsplit("/", 1)[-1], "path": path, "sha": blob,
            "url": f"{base}/repos/{full_name}/contents/{path}",
            "git_url": f"{base}/repos/{full_name}/git/blobs/{blob}",
            "html_url": f"https://github.example/{full_name}/blob/{path}", "download_url": None,
            "_links": {"self": f"{base}/repos/{full_name}/contents/{path}"}}


_BUILT: dict[str, Path] = {}      # history -> a bare repository holding it, built once per test session


def make_class(api: FakeGitHub, base: Path, students: dict, org: str = "course-org", prefix: str = "cnn") -> Path:
    """Bare repositories ``<org>/<prefix>-<student>`` served by ``api`` (``students``: name -> commits, as
    ``tests.support.student_repo`` takes them); returns a roster CSV naming them."""
    import atexit
    import shutil
    import tempfile

    from tests.support import student_repo

    for name, commits in students.items():
        key = repr(commits)
        if key not in _BUILT:
            built = Path(tempfile.mkdtemp(prefix="fake-github-"))
            atexit.register(shutil.rmtree, built, True)
            _BUILT[key] = student_repo(built, "repo", commits)
        bare = base / org / f"{prefix}-{name}.git"
        shutil.copytree(_BUILT[key], bare)
        api.add(f"{org}/{prefix}-{name}", bare)
    roster = base / "roster.csv"
    roster.write_text("student,github\n" + "".join(f"{name},{name}\n" for name in students))
    return roster
