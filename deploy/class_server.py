"""A class server with several app processes behind nginx: `make serve PROCS=N`.

One Streamlit process serves every tab it holds from one Python interpreter, so a class past
what one process carries (README, "How many students one process carries") needs more
processes. This starts N `streamlit run app.py` processes on the ports after PORT (class
mode, the same runs folder: the run store and the roster are files, so every process sees the
same runs and the same logins) and nginx on PORT in front of them.

Sticky sessions: a tab's session lives in the process that holds its websocket, and its
pictures (/media/...) are served only by that process, so every request of one browser must
reach the same process. nginx's userid module gives each browser a `genlab_route` cookie on
its first response, and requests are sent by a consistent hash of that cookie (of the
address and browser name before the cookie exists). A student whose process stops is sent to
another and is still logged in there: the login is the session cookie, which every process
checks against the roster.

    python deploy/class_server.py --processes 2 --port 8501     (make serve PROCS=2)
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NGINX_CONF = """\
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  client_max_body_size 200m;   # as .streamlit/config.toml's maxUploadSize
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  # Before the browser has its route cookie: its address and browser name.
  map $cookie_genlab_route $route {{ '' $remote_addr$http_user_agent; default $cookie_genlab_route; }}
  upstream genlab {{
    hash $route consistent;
{servers}
  }}
  server {{
    listen {address}:{port};
    userid on;
    userid_name genlab_route;
    userid_path /;
    userid_expires max;
    location / {{
      proxy_pass http://genlab;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1d;
      proxy_buffering off;
      add_header X-GenLab-Process $upstream_addr always;
    }}
  }}
}}
"""


def nginx_conf(tmp: Path, address: str, port: int, app_ports: list[int]) -> str:
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in app_ports)
    user = "user root root;" if os.geteuid() == 0 else ""  # workers may write the temp folders
    return NGINX_CONF.format(user=user, tmp=tmp, address=address, port=port, servers=servers)


def start_apps(app_ports: list[int], env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    procs = []
    for p in app_ports:
        log = open(logs / f"app-{p}.log", "wb")  # noqa: SIM115 - open while the process lives
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(p), "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True))
    return procs


def wait_healthy(port: int, timeout_s: float = 120) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the app process on port {port} did not start")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default="0.0.0.0")
    args = parser.parse_args(argv)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("make serve PROCS=N needs nginx (Debian: apt-get install nginx)")
    tmp = Path(tempfile.mkdtemp(prefix="genlab-serve-"))
    app_ports = [args.port + 1 + i for i in range(args.processes)]
    env = dict(os.environ, GENLAB_CLASS="1")
    apps = start_apps(app_ports, env, tmp)
    try:
        for p in app_ports:
            wait_healthy(p)
        (tmp / "nginx.conf").write_text(nginx_conf(tmp, args.address, args.port, app_ports))
        print(f"GenLab for a class: {args.processes} app processes behind nginx on {args.address}:{args.port} "
              f"(logs in {tmp})", flush=True)
        front = subprocess.Popen([nginx, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-g", "daemon off;"])
        signal.signal(signal.SIGTERM, lambda *_: front.terminate())
        front.wait()
    finally:
        for proc in apps:
            proc.terminate()
        for proc in apps:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
