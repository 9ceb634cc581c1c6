"""The demo's output folder, as `make demo` writes it: a real pass over the bundled
sample feeds served on 127.0.0.1 (for the tests that read what the demo publishes)."""

from __future__ import annotations

from pathlib import Path

from feeds import config, demo, pipeline


def publish_demo(folder: Path) -> Path:
    """Run one demo pass with its config and store in `folder`; the output folder."""
    with demo.DemoServer() as server:
        text = demo.config_text(
            server.base_url, server.sources(), output_dir=str(folder / "out"),
            database=str(folder / "demo.db"),
        )  # fmt: skip
        (folder / "config.yaml").write_text(text, encoding="utf-8")
        cfg = config.load(folder / "config.yaml")
        with pipeline.open_for(cfg) as store:
            pipeline.run_pass(cfg, store, every=True)
    return folder / "out"
