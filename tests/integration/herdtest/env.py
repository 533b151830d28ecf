"""Where the herd binary and the shared samples are, as CTest passes them."""
import os
import pathlib


def herd_binary() -> str:
    path = os.environ.get("HERD_BINARY")
    if not path:
        raise RuntimeError("HERD_BINARY is not set: the path of the herd executable")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"HERD_BINARY={path} is not an executable file")
    return path


def shared_dir() -> pathlib.Path:
    path = os.environ.get("HERD_SHARED_DIR")
    if not path:
        path = str(pathlib.Path(__file__).resolve().parents[3].parent / "shared")
    return pathlib.Path(path)


def sample(name: str) -> bytes:
    """A verbatim Places body from places-samples/, as bytes."""
    return (shared_dir() / "places-samples" / name).read_bytes()
