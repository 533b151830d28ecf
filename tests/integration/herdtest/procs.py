"""Looking at processes through /proc: children of a process, the files it has open, and
who listens on a port."""
import os
from typing import Optional


def _stat_fields(pid: int) -> Optional[list]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces; fields follow the last ')'.
    return data[data.rindex(")") + 2:].split()


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """True for a process that exists and is not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def open_files(pid: int) -> set[str]:
    """The paths of the files process `pid` has open; empty once it has gone."""
    paths = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return paths
    for fd in descriptors:
        try:
            paths.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:   # closed meanwhile
            pass
    return paths


def listening_inode(port: int) -> Optional[str]:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                return inode
    return None


def listener_pid(port: int, candidates: list[int]) -> Optional[int]:
    """Which of `candidates` holds the socket listening on `port`."""
    inode = listening_inode(port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in candidates:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None
