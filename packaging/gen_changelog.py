#!/usr/bin/env python3
"""Writes the package changelogs from the one version in VERSION.

  gen_changelog.py --version 0.1.0 --maintainer 'Name <addr>' \
      --deb changelog.gz --rpm changelog.rpm

--deb: Debian changelog format, gzip -9 with no name or time in the header
(Debian policy wants /usr/share/doc/<pkg>/changelog.gz in every package).
--rpm: the body of the spec's %changelog. The date is SOURCE_DATE_EPOCH when
set (reproducible builds), else now.
"""

import argparse
import datetime
import gzip
import io
import os
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    ap.add_argument("--maintainer", required=True)
    ap.add_argument("--deb", required=True)
    ap.add_argument("--rpm", required=True)
    a = ap.parse_args()

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    # Fixed English names: the C locale's, whatever the build host's locale.
    day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][when.weekday()]
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec"][when.month - 1]
    text = f"Release {a.version}; see /usr/share/doc/snoopkit/README.md."

    deb = (f"snoopkit ({a.version}) unstable; urgency=medium\n\n"
           f"  * {text}\n\n"
           f" -- {a.maintainer}  {day}, {when.day:02d} {month} {when.year} "
           f"{when:%H:%M:%S} +0000\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(deb.encode())
    rpm = f"* {day} {month} {when.day:02d} {when.year} {a.maintainer} - {a.version}-1\n- {text}\n"

    for path, data in ((a.deb, buf.getvalue()), (a.rpm, rpm.encode())):
        tmp = Path(path + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


if __name__ == "__main__":
    main()
