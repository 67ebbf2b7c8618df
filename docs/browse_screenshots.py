"""Make the browser screenshots of the README (docs/img/browse-*.png) from real runs.

    python docs/browse_screenshots.py            # needs trialog, trialog-file, trialog-browser, selenium,
                                                 # Debian's chromium and chromium-driver

Two toy experiments train for a few epochs with the file logger (``log/values.csv``, ``plot/``): ``bc_mlp``
in four configs (hidden, model.depth, lr), one of them saving a model artifact under ``save/``, and ``cnn``
with keys of its own; some runs are tagged and starred. Then the overview, a run page and a comparison of
the four ``bc_mlp`` runs are captured in headless Chromium.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

from trialog_runs import registry

from trialog.api import Experiment, write_json

OUT = Path(__file__).parent / "img"


class Toy(Experiment):
    """Fits a made-up curve: the loss falls with a speed set by lr and hidden; lr decays each step."""

    def train(self, epoch):
        c = self.config
        speed = c["lr"] * 300 * math.sqrt(c.get("hidden", 64) / 64)
        for i in range(50):
            step = epoch * 50 + i
            wobble = 0.03 * math.sin(step / 3 + self.seed)
            self.add_result(math.exp(-speed * step / 50) + 0.1 + wobble, "loss", tag="train", counter=step)
            self.add_result(c["lr"] * (1 - 0.06 * step / 50), "lr", tag="train", counter=step)
        acc = 0.95 - 0.45 * math.exp(-speed * (epoch + 1))
        self.add_result(acc - 0.02 * (epoch % 2), "accuracy", tag="val", counter=epoch)
        self.add_result(math.exp(-speed * (epoch + 1)) + 0.15, "loss", tag="val", counter=epoch)
        if c.get("save_model") and epoch == self.n_epochs - 1:
            (self.save_dir / "model").mkdir(exist_ok=True)
            write_json(
                self.save_dir / "model" / "final_weights.json", {"hidden": c["hidden"], "weights": [0.1] * 32}
            )


def make(base: Path, name: str, config: dict, seed: int = 0, epochs: int = 6) -> Path:
    exp = Toy(
        config=config,
        name=name,
        n_epochs=epochs,
        seed=seed,
        base_dir=base,
        loggers={"file": {"type": "file"}},
        heartbeat_interval=0,
        quiet=True,
    )
    exp.run()
    exp.close()
    return exp.run_dir


def runs(base: Path) -> dict[str, Path]:
    made = {}
    for i, (hidden, depth, lr) in enumerate(
        [(64, 2, 0.002), (128, 2, 0.002), (128, 3, 0.001), (256, 3, 0.0021)]
    ):
        made[f"mlp{i}"] = make(
            base,
            "bc_mlp",
            {"lr": lr, "hidden": hidden, "model": {"depth": depth}, "save_model": i == 1},
            seed=i,
        )
    for i, lr in enumerate((0.003, 0.0015)):
        made[f"cnn{i}"] = make(
            base, "cnn", {"lr": lr, "channels": 32, "kernel": 3, "dropout": 0.1 * (i + 1), "augment": "flip"}
        )
    registry.update_tags(made["mlp1"], ["baseline"])
    registry.set_purpose(made["mlp1"], "wider hidden layer, same depth")
    registry.set_starred(made["mlp1"], True)
    registry.update_tags(made["mlp2"], ["sweep"])
    registry.update_tags(made["mlp3"], ["sweep"])
    registry.update_tags(made["cnn0"], ["cnn"])
    return made


def shoot(base: Path, made: dict[str, Path], out: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    from trialog_browser.index import run_id
    from trialog_browser.serve import BrowserServer

    options = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1360,900",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    drv = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))

    def wait(script: str) -> None:
        WebDriverWait(drv, 600, poll_frequency=0.05).until(lambda d: d.execute_script(script))

    try:
        with BrowserServer([base], cache_dir=base.parent / "cache", refresh_every=0) as server:
            drv.get(server.url)
            wait("return window.trialog && window.trialog.ready && window.trialog.total === 6")
            # scrolled to the metric columns: the name column stays in view
            drv.execute_script("document.querySelector('.table-wrap').scrollLeft = 100000")
            wait("return document.querySelector('.table-wrap').scrollLeft > 0")
            drv.save_screenshot(str(out / "browse-overview.png"))
            drv.set_window_size(1360, 2750)
            drv.get(f"{server.url}run/{run_id(made['mlp1'])}")
            wait("return window.trialog.ready && document.querySelectorAll('#plots img').length > 0")
            wait("return [...document.querySelectorAll('#plots img')].every((i) => i.complete)")
            drv.set_window_size(1360, drv.execute_script("return document.documentElement.scrollHeight") + 24)
            drv.save_screenshot(str(out / "browse-run.png"))
            drv.set_window_size(1360, 1000)
            ids = ",".join(run_id(made[f"mlp{i}"]) for i in range(4))
            drv.get(f"{server.url}compare?ids={ids}")
            wait("return window.trialog.ready")
            drv.save_screenshot(str(out / "browse-compare.png"))
    finally:
        drv.quit()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "runs"
        made = runs(base)
        shoot(base, made, out)
    print("\n".join(str(out / f"browse-{p}.png") for p in ("overview", "run", "compare")))


if __name__ == "__main__":
    main()
