"""Which output folders `feeds` refuses to publish into (issue 20, section 4).

Publishing replaces `<slug>.rss`, `index.html` and the like in `output_dir` and removes
its own stale temp files there; pointed at the wrong folder, that overwrites files
nobody meant to give away, and `feeds serve` would serve whatever else the folder holds
(the config, the database). So a folder is refused when it is:

* the filesystem root, a system folder (`/etc`, `/usr`, `/var`, ...; the trees under
  `/etc`, `/boot`, `/dev`, `/proc`, `/sys` and the binary and library folders too), or
  the user's home folder itself;
* the folder that holds the config file, or any folder above it;
* a folder holding the SQLite store (and so its pass lock, which sits beside it), at any
  depth below it.

Subfolders of the config's folder (`public/` beside config.yaml) and web roots such as
`/var/www/html` or `/srv/feeds` are fine. With a PostgreSQL store the pass lock lives in
`output_dir` by design (`pipeline.lock_path`), so that is not a reason to refuse it.
Paths are compared after resolving symbolic links, so a link cannot dodge the rule.
"""

from __future__ import annotations

import os

__all__ = ["output_dir_problem"]

#: Refused with everything below them: nothing under these is a place to publish.
SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
    "/sbin", "/sys", "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib32", "/usr/lib64",
    "/usr/libexec", "/usr/sbin",
)  # fmt: skip
#: Refused themselves; a folder below them (/var/www/html, /srv/feeds) is fine.
SYSTEM_FOLDERS = (
    "/", "/home", "/media", "/mnt", "/opt", "/root", "/run", "/srv", "/tmp", "/usr",
    "/usr/local", "/usr/share", "/var", "/var/cache", "/var/lib", "/var/log", "/var/mail",
    "/var/spool", "/var/tmp",
)  # fmt: skip


def output_dir_problem(output_dir: str, config_file: str, database: str | None) -> str | None:
    """Why publishing into `output_dir` could destroy or expose files, or None.

    `database` is the resolved SQLite path, or None for a server store.
    """
    out = os.path.realpath(output_dir)
    shown = output_dir if out == os.path.normpath(output_dir) else f"{output_dir} (= {out})"
    if _system(out):
        return f"{shown} is a system folder; publish into a folder of its own"
    if out == os.path.realpath(os.path.expanduser("~")):
        return f"{shown} is the home folder; publish into a folder of its own"
    config_folder = os.path.dirname(os.path.realpath(config_file))
    if _within(config_folder, out):
        where = "holds" if out == config_folder else "is above"
        return f"{shown} {where} the config file; use a subfolder such as 'public'"
    if database is not None and _within(os.path.dirname(os.path.realpath(database)), out):
        return f"{shown} holds the database and its lock ({database}); use another folder"
    return None


def _system(folder: str) -> bool:
    trees = {os.path.realpath(t) for t in SYSTEM_TREES}
    folders = {os.path.realpath(f) for f in SYSTEM_FOLDERS}
    return folder in folders or any(_within(folder, tree) for tree in trees)


def _within(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or below it (both absolute and resolved)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
