#!/usr/bin/env python3
"""Runs README.md's examples as a user pastes them, in order, in a fresh copy of the repository.

Every fenced block whose info string is ``sh``, ``bash`` or ``python`` is an example and runs, unless
the HTML comment on the line just above the fence says otherwise:

    <!-- readme: not run: REASON -->     the block is shown, not run (the reason is printed)
    <!-- readme: background -->          a long-running command (the server): started in the
                                         background, then the runner waits for GET /health on
                                         http://127.0.0.1:5080 and stops it (SIGTERM) at the end

Shell blocks run one after another in one bash session (variables, aliases and the working directory
carry over, as in a terminal), with ``set -e -o pipefail``: a failing command fails its block.
Python blocks run with ``python3`` in the session's working directory and environment. The session
starts in a copy of the repository's files (what ``git clone`` would give, plus uncommitted changes),
so a fresh data directory, fresh ports and nothing left in the checkout. A block of another language
(``csharp``, a usage line) is not an example of this kind and is listed as such.

Prints one line per block and ends with ``readme: N passed, N failed, N skipped``: blocks marked not
run and blocks of other languages are listed but not counted; after a failed block the rest are
skipped (they build on it). Exit code 1 when a block failed.

    python3 tests/readme/run.py [--keep] [README]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEALTH_URL = "http://127.0.0.1:5080/health"
# The first `dotnet run` builds Fleetkey in the fresh copy: minutes on two cores.
START_TIMEOUT_S = 900
BLOCK_TIMEOUT_S = 600
RUNNABLE = {"sh": "shell", "bash": "shell", "python": "python"}
MARKER = re.compile(r"^<!--\s*readme:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```(.*)$")
DONE = "__readme_block_done__"


@dataclass
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    marker: str | None

    @property
    def title(self) -> str:
        first = next((l.strip() for l in self.code.splitlines() if l.strip() and not l.strip().startswith("#")), "")
        return f"README.md:{self.line} ({self.lang or 'no language'}) {first[:70]}"


def parse(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with the marker comment above each, if any."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, info = m.group(1), m.group(2).strip()
        lang = info.split()[0].lower() if info else ""
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[i]):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        if i >= len(lines):
            raise SystemExit(f"README.md:{start + 1}: a fenced block is never closed")
        marker = None
        above = start - 1
        if above >= 0:
            mm = MARKER.match(lines[above].strip())
            if mm:
                marker = mm.group(1)
        blocks.append(Block(start + 1, lang, "\n".join(body) + "\n", marker))
        i += 1
    return blocks


def workspace() -> Path:
    """A copy of the repository's tracked and untracked-but-not-ignored files, as a clone would hold."""
    root = Path(tempfile.mkdtemp(prefix="fleetkey-readme-"))
    files = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = REPO / name
        if not source.is_file():
            continue  # deleted in the working tree
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return root


class Session:
    """One bash process the shell blocks are fed to, as lines pasted into one terminal."""

    def __init__(self, cwd: Path, env: dict[str, str], log: Path):
        self.cwd = cwd
        self.env_file = cwd.parent / (cwd.name + ".env")
        self.log = log
        self.out = open(log, "ab")
        self.bash = subprocess.Popen(
            ["bash", "--norc", "--noprofile"], cwd=cwd, env=env, stdin=subprocess.PIPE,
            stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)
        self.send("shopt -s expand_aliases\n")

    def send(self, text: str) -> None:
        assert self.bash.stdin is not None
        self.bash.stdin.write(text.encode())
        self.bash.stdin.flush()

    def run(self, path: Path) -> tuple[bool, str]:
        """Sources the block: whether it succeeded (a failure ends the session) and what it printed."""
        before = self.log.stat().st_size
        # set -e in the session: a failing command ends bash, and DONE never comes.
        self.send(f"set -e -o pipefail; source {path}; set +e +o pipefail; "
                  f"pwd > {self.env_file}.cwd; env -0 > {self.env_file}; echo {DONE}\n")
        deadline = time.monotonic() + BLOCK_TIMEOUT_S
        while True:
            with open(self.log, "rb") as f:
                f.seek(before)
                output = f.read().decode(errors="replace")
            if DONE in output:
                return True, output.replace(DONE, "")
            if self.bash.poll() is not None:
                return False, output
            if time.monotonic() > deadline:
                return False, output + f"\n(still running after {BLOCK_TIMEOUT_S} s)"
            time.sleep(0.1)

    def environment(self) -> tuple[Path, dict[str, str]]:
        raw = self.env_file.read_bytes().split(b"\0")
        env = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
        return Path(Path(str(self.env_file) + ".cwd").read_text().strip()), env

    def close(self) -> None:
        if self.bash.poll() is None:
            os.killpg(self.bash.pid, signal.SIGKILL)
        self.bash.wait()
        self.out.close()


def wait_for_health(process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(HEALTH_URL, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def port_busy(port: int) -> bool:
    import socket
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def indent(text: str, lines: int = 60) -> str:
    """The last lines of a block's output, indented under its result line."""
    return "\n".join("    " + l for l in text.splitlines()[-lines:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("readme", nargs="?", default=str(REPO / "README.md"))
    parser.add_argument("--keep", action="store_true", help="keep the workspace (its path is printed)")
    args = parser.parse_args()

    blocks = parse(Path(args.readme).read_text(encoding="utf-8"))
    busy = [p for p in (5080, 5081, 8883) if port_busy(p)]
    if busy:
        print(f"readme: ports {busy} are in use on 127.0.0.1; the README's examples need 5080, 5081 and 8883")
        print("readme: 0 passed, 1 failed")
        return 1

    root = workspace()
    print(f"workspace: {root}")
    log = root.parent / (root.name + ".log")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLEETKEY_", "AWS_"))}
    env["HOME"] = str(root.parent / (root.name + ".home"))  # no ~/.aws of the machine's user
    Path(env["HOME"]).mkdir()
    session = Session(root, env, log)
    background: list[subprocess.Popen] = []
    passed = failed = skipped = 0
    broken = False
    try:
        for number, block in enumerate(blocks, 1):
            kind = RUNNABLE.get(block.lang)
            marker = block.marker or ""
            if marker.startswith("not run"):
                reason = marker.partition(":")[2].strip() or "no reason given"
                # Documentation that cannot run here, not a test: listed, not counted.
                print(f"-- {number} - {block.title}: not run: {reason}")
                continue
            if kind is None:
                print(f"-- {number} - {block.title}: not a shell or Python example")
                continue
            if broken:
                print(f"ok {number} - {block.title} # SKIP an earlier block failed")
                skipped += 1
                continue
            if marker and marker != "background":
                print(f"not ok {number} - {block.title}: unknown marker {marker!r}")
                failed += 1
                broken = True
                continue
            start = time.monotonic()
            script = root.parent / f"{root.name}.block{number}.{'py' if kind == 'python' else 'sh'}"
            script.write_text(block.code, encoding="utf-8")
            if marker == "background":
                cwd, block_env = session.environment() if number > 1 and Path(str(session.env_file)).exists() else (root, env)
                server_log = root.parent / f"{root.name}.server.log"
                process = subprocess.Popen(
                    ["bash", str(script)], cwd=cwd, env=block_env, stdout=open(server_log, "wb"),
                    stderr=subprocess.STDOUT, start_new_session=True)
                background.append(process)
                ok = wait_for_health(process, START_TIMEOUT_S)
                detail = indent(server_log.read_text(errors="replace")) if not ok else ""
            elif kind == "shell":
                ok, output = session.run(script)
                detail = indent(output) if not ok else ""
            else:
                cwd, block_env = session.environment()
                result = subprocess.run(
                    [sys.executable, str(script)], cwd=cwd, env=block_env,
                    capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
                with open(log, "a", encoding="utf-8") as out:
                    out.write(result.stdout + result.stderr)
                ok = result.returncode == 0
                detail = indent(result.stdout + result.stderr) if not ok else ""
            took = time.monotonic() - start
            if ok:
                print(f"ok {number} - {block.title} ({took:.1f} s)")
                passed += 1
            else:
                print(f"not ok {number} - {block.title} ({took:.1f} s)\n{detail}")
                failed += 1
                broken = True
    finally:
        session.close()
        for process in background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        if args.keep or failed:
            print(f"workspace kept: {root} (session log {log})")
        else:
            for path in root.parent.glob(root.name + "*"):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    if skipped:
        print(f"readme: {skipped} skipped — an earlier block failed")
    print(f"readme: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
