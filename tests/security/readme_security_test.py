#!/usr/bin/env python3
"""Runs the step-by-step blocks of README.md's "## Security" section as written, then checks
what a user would: the node exists with its sasl ACL, a client without the SASL login gets
NOAUTH, a client without a certificate gets no session, all three members serve with one
leader, and the README's stop command stops them.

    readme_security_test.py README.md CORRAL_SERVER CORRAL_CLI

The blocks are the fenced ones after `<!-- readme-security:N -->` (N = 1, 2, ... in document
order) and `<!-- readme-security:stop -->`. They run in one bash process with `set -eu`
(not pipefail, which a user's shell does not set either; Corral closes a TLS connection
without close_notify after a four-letter word's answer, so `openssl s_client` exits 1 in the
README's `srvr` pipe) in an empty temporary directory, with the directories of CORRAL_SERVER
and CORRAL_CLI first on the PATH:
  - ```sh blocks run verbatim;
  - ```python blocks run with /usr/bin/python3 (Debian's python3-kazoo), as the README says;
  - ```console blocks are transcripts: each `$ COMMAND` runs and its output (stdout and
    stderr) must equal the lines under it.
The only change made to the text is the ports: the README's 2281-2283 (client), 2881-2883
(quorum) and 3881-3883 (election), literal or written `228$i`, become free ones, the prefixes
228, 288 and 388 each replaced by a random 4-digit one whose three ports are free.
"""
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

README, SERVER, CLI = sys.argv[1:4]
PYTHON = "/usr/bin/python3"
MARKER = re.compile(r"^<!-- readme-security:(\d+|stop) -->\s*$")
PORT_PREFIX = re.compile(r"(?<![0-9])(228|288|388)(?=[1-3](?![0-9])|\$i\b)")
failures = []


def check(what, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + what + ("" if ok or not detail else "\n" + detail))
    if not ok:
        failures.append(what)


def security_section(text):
    start = text.index("\n## Security\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def marked_blocks(section):
    """[(mark, language, body)] in document order."""
    lines = section.split("\n")
    blocks = []
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        fence = lines[i + 1]
        if not fence.startswith("```"):
            raise SystemExit(f"README: no fenced block right after '{line}'")
        end = lines.index("```", i + 2)
        blocks.append((m.group(1), fence[3:].strip(), "\n".join(lines[i + 2:end])))
    return blocks


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_prefixes():
    """A 4-digit prefix for each README prefix, all nine ports free, below the ephemeral range."""
    chosen = {}
    while len(chosen) < 3:
        prefix = random.randrange(1000, 3270)
        if prefix in chosen.values():
            continue
        if all(port_free(prefix * 10 + k) for k in (1, 2, 3)):
            chosen[("228", "288", "388")[len(chosen)]] = prefix
    return chosen


def with_ports(text, prefixes, seen):
    def repl(m):
        seen.add(m.group(1))
        return str(prefixes[m.group(1)])
    return PORT_PREFIX.sub(repl, text)


def heredoc(body, tag):
    assert tag not in body
    return f"<<'{tag}'\n{body}\n{tag}\n"


def transcript_script(body, n):
    """Bash that runs each `$ COMMAND` of a console block and compares its output."""
    out, steps = [], []
    for line in body.split("\n"):
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise SystemExit(f"README block {n}: output before the first '$ ' command")
    for k, (command, expected) in enumerate(steps):
        tag = f"README_EXPECTED_{n}_{k}"
        out.append(f"__got=$( {{ {command}\n}} 2>&1 ) || true\n")
        out.append("__want=$(cat " + heredoc("\n".join(expected), tag) + ")\n")
        out.append('if [[ "$__got" != "$__want" ]]; then\n'
                   f"  printf '%s\\n' 'README transcript differs for: '{shlex.quote(command)}"
                   ' "--- README says:" "$__want" "--- got:" "$__got" >&2\n'
                   "  exit 1\nfi\n"
                   f"printf '$ %s\\n%s\\n' {shlex.quote(command)} \"$__got\"\n")
    return "".join(out)


def block_script(mark, lang, body):
    if lang in ("sh", "bash"):
        return body + "\n"
    if lang == "python":
        return f"{PYTHON} - " + heredoc(body, f"README_PYTHON_{mark}")
    if lang == "console":
        return transcript_script(body, mark)
    raise SystemExit(f"README block {mark}: unknown language '{lang}'")


def run_bash(script, cwd, env, timeout):
    """Runs `script` in its own process group (so every server it starts can be found)."""
    proc = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        out += f"\n(timed out after {timeout} s)"
    return proc.pid, proc.returncode, out


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def corral(work, hosts, *args, timeout_ms=5000):
    r = subprocess.run([CLI, "-s", hosts, "--timeout", str(timeout_ms), "--tls-ca",
                        f"{work}/ca.pem", *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def srvr_mode(work, port):
    r = subprocess.run(["openssl", "s_client", "-quiet", "-connect", f"127.0.0.1:{port}",
                        "-CAfile", f"{work}/ca.pem", "-cert", f"{work}/client.pem"],
                       input="srvr", capture_output=True, text=True, timeout=10)
    m = re.search(r"^Mode: (\w+)", r.stdout, re.M)
    return m.group(1) if m else None


def tls_handshake(work, port, *cert):
    """Whether a TLS handshake with the server on `port` (certificate args `cert`) succeeds."""
    r = subprocess.run(["openssl", "s_client", "-brief", "-connect", f"127.0.0.1:{port}",
                        "-CAfile", f"{work}/ca.pem", *cert], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=10)
    return r.returncode == 0 and "CONNECTION ESTABLISHED" in r.stderr + r.stdout


def check_ensemble(work, client_ports, election_port):
    hosts = ",".join(f"127.0.0.1:{p}" for p in client_ports)
    bob = ["--tls-cert", f"{work}/client.pem", "--sasl", "bob:bobsecret"]
    for path in ("/app", "/app/zkcli", "/app/kazoo"):
        rc, out = corral(work, hosts, *bob, "--json", "getAcl", path)
        acl = json.loads(out).get("acl") if rc == 0 else None
        check(f"{path} has the ACL sasl:bob:cdrwa", acl == [{"id": "bob", "perms": "cdrwa",
                                                              "scheme": "sasl"}], out)
    rc, out = corral(work, hosts, "--tls-cert", f"{work}/client.pem", "get", "/app")
    check("a client with a certificate but no SASL login gets ZNOAUTH", rc == 1 and
          "ZNOAUTH" in out, out)
    rc, out = corral(work, hosts, "get", "/app", timeout_ms=2000)
    check("a client without a certificate gets no session", rc == 3, out)
    modes = [srvr_mode(work, p) for p in client_ports]
    check("srvr over TLS: one leader, two followers",
          sorted(modes) == ["follower", "follower", "leader"], str(modes))
    for port in client_ports:
        rc, out = corral(work, f"127.0.0.1:{port}", *bob, "get", "/app")
        check(f"member on {port} serves bob /app", rc == 0 and out.strip() == "hello", out)
    check("election port: mutual TLS, a member's certificate is accepted",
          tls_handshake(work, election_port, "-cert", f"{work}/server.pem"))
    check("election port: a connection without a certificate is refused",
          not tls_handshake(work, election_port))
    for i in (1, 2, 3):
        with open(f"{work}/server{i}/server.log") as f:
            log = f.read()
        check(f"server {i} runs the quorum under TLS and authentication",
              "sslQuorum: quorum and election connections use TLS" in log and
              "learnerRequireSasl=true serverRequireSasl=true" in log)


def main():
    with open(README) as f:
        blocks = marked_blocks(security_section(f.read()))
    numbered = [b for b in blocks if b[0] != "stop"]
    stop = [b for b in blocks if b[0] == "stop"]
    if [b[0] for b in numbered] != [str(k) for k in range(1, len(numbered) + 1)] or len(stop) != 1:
        raise SystemExit(f"README: marks {[b[0] for b in blocks]}, expected 1..N and one stop")
    if {b[1] for b in numbered} != {"sh", "console", "python"}:
        raise SystemExit("README: expected sh, console and python blocks")

    prefixes = free_prefixes()
    seen = set()
    script = "set -eu\n" + "".join(
        with_ports(block_script(*b), prefixes, seen) for b in numbered)
    stop_script = "set -eu\n" + with_ports(block_script(*stop[0]), prefixes, seen)
    if seen != set(prefixes):
        raise SystemExit(f"README: ports found only with prefixes {sorted(seen)}")
    client_ports = [prefixes["228"] * 10 + k for k in (1, 2, 3)]
    print(f"README ports 228x/288x/388x -> {prefixes['228']}x/{prefixes['288']}x/"
          f"{prefixes['388']}x")

    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [os.path.dirname(os.path.abspath(SERVER)), os.path.dirname(os.path.abspath(CLI)),
         env.get("PATH", "")])
    env.pop("CLIENT_JVMFLAGS", None)
    env.pop("SERVER_JVMFLAGS", None)
    work = tempfile.mkdtemp(prefix="corral-readme-security.")
    pgid = None
    started = time.monotonic()
    try:
        pgid, rc, out = run_bash(script, work, env, timeout=90)
        print(out)
        check("the README's blocks run without error", rc == 0)
        if rc == 0:
            check_ensemble(work, client_ports, prefixes["388"] * 10 + 1)
        _, rc, out = run_bash(stop_script, work, env, timeout=30)
        print(out, end="")
        deadline = time.monotonic() + 20
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        check("the README's stop command stops the servers", rc == 0 and not group_alive(pgid))
    finally:
        if pgid is not None and group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
        if failures:
            for i in (1, 2, 3):
                log = f"{work}/server{i}/server.log"
                if os.path.exists(log):
                    print(f"--- {log} (last lines)")
                    with open(log) as f:
                        print("".join(f.readlines()[-15:]), end="")
        subprocess.run(["rm", "-rf", work])
    print(f"{time.monotonic() - started:.1f} s")
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("the README's Security section works as written")


if __name__ == "__main__":
    main()
