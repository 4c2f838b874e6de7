"""Make sure headless Chromium is there for the browser tests; install it where we can.

On Debian/Ubuntu as root this installs the distribution's `chromium` package.
Elsewhere it says what to do; the browser tests then skip, except with CI=true,
where they must run (and fail if no browser can be found).
"""

import os
import shutil
import subprocess
import sys

from browser import find_chromium  # scripts/browser.py, a sibling of this script


def main():
    if find_chromium():
        return 0
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("Installing Chromium for the browser tests (apt-get install chromium) ...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        if find_chromium():
            return 0
    print("No Chromium found: the browser tests will skip. Install it (Debian/Ubuntu: "
          "`sudo apt-get install chromium`; or set LRCOURSE_CHROMIUM=/path/to/chrome).")
    return 1 if os.environ.get("CI") == "true" else 0


if __name__ == "__main__":
    sys.exit(main())
