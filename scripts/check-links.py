#!/usr/bin/env python3
"""Link check of the rendered mdBook: every relative href/src in the HTML output must name
an existing file, and every #fragment an existing id in it. A link that leaves the book
(`../config/samples` from a chapter) must name an existing path of the repository (the
docs/ source tree is mapped back); those are listed as notes, since the published site
cannot serve them. External links (http:, https:, mailto:) are listed with --external but
not fetched (no network in CI).

usage: scripts/check-links.py BOOK_DIR [--external] [--src DOCS_DIR]

"""
import html.parser
import os
import sys
import urllib.parse


class Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        for k in ("href", "src"):
            if a.get(k) and tag in ("a", "img", "script", "link"):
                self.links.append(a[k])


def parse(path, cache={}):
    if path not in cache:
        c = Collector()
        with open(path, encoding="utf-8") as f:
            c.feed(f.read())
        cache[path] = c
    return cache[path]


def main():
    root = os.path.abspath(sys.argv[1])
    show_external = "--external" in sys.argv
    src = os.path.abspath(sys.argv[sys.argv.index("--src") + 1]) if "--src" in sys.argv else None
    errors, notes, external, checked = [], set(), set(), 0
    for d, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".html") or name in ("print.html", "404.html", "toc.html"):
                continue
            page = os.path.join(d, name)
            for link in parse(page).links:
                u = urllib.parse.urlsplit(link)
                if u.scheme in ("http", "https", "mailto"):
                    external.add(link)
                    continue
                if u.scheme or link.startswith("//"):
                    continue
                checked += 1
                target = page if not u.path else os.path.normpath(
                    os.path.join(d, urllib.parse.unquote(u.path)))
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                rel = os.path.relpath(page, root)
                if src and os.path.relpath(target, root).startswith(".."):
                    in_repo = os.path.normpath(os.path.join(src, os.path.relpath(target, root)))
                    if os.path.exists(in_repo):
                        notes.add(f"{rel}: {link} points into the repository ({os.path.relpath(in_repo, os.path.dirname(src))}), not the site")
                    else:
                        errors.append(f"{rel}: broken link {link} (outside the book, and no {in_repo})")
                    continue
                if not os.path.exists(target):
                    errors.append(f"{rel}: broken link {link}")
                    continue
                if u.fragment and target.endswith(".html"):
                    if urllib.parse.unquote(u.fragment) not in parse(target).ids:
                        errors.append(f"{rel}: no anchor #{u.fragment} in {os.path.relpath(target, root)}")
    if show_external:
        for link in sorted(external):
            print("external:", link)
    for n in sorted(notes):
        print("note:", n)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"checked {checked} internal links, {len(external)} external (not fetched), {len(errors)} broken")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
