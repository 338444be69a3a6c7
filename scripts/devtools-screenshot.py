#!/usr/bin/env python3
"""Screenshots a Chrome Trace Event Format JSON (`proctape-analyze timeline`)
as Chromium DevTools' Performance panel shows it, offline and headless.

    scripts/devtools-screenshot.py [options] TIMELINE.json OUT.png

Why this way: Debian's Chromium has no chrome://tracing (Debian builds it
without catapult) and ui.perfetto.dev needs the network. The Performance panel
of DevTools, which ships inside the same Chromium, reads the same JSON
("Load trace..."), and its standalone page
devtools://devtools/bundled/trace_app.html shows that panel without any page
to inspect.

How: Chromium is started headless with --remote-debugging-pipe, so the
DevTools protocol (CDP) runs over file descriptors 3 (commands in) and 4
(replies and events out) as NUL-terminated JSON messages: no port, no
WebSocket, only the Python standard library. Through it we open trace_app.html,
and Runtime.evaluate runs JavaScript inside the DevTools front end itself,
which can import DevTools' own modules: TimelinePanel.loadFromFile() is given
the JSON unchanged as a File, exactly as if it was picked in the file dialog.
The rest uses DevTools' objects and the DOM, never screen coordinates: the
dialog saying that the (nonexistent) debugging connection was closed is closed
through its close button, found by walking the DOM through shadow roots; the
first-use shortcuts dialog is switched off by the localStorage key DevTools
checks; the sidebar and the details pane are hidden and "Screenshots" is
unticked; the trace bounds manager zooms the flame chart onto the processes
whose rows fit on the screen. Page.captureScreenshot then writes the PNG.

These are DevTools internals, not a stable API: every step checks that what it
uses exists and fails with a message naming it (and the Chromium version), so
a new Chromium that moved something fails clearly instead of taking a wrong
picture. Known to work with Debian 12's Chromium 156.
"""
import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

DEFAULT_CHROMIUM = "/usr/lib/chromium/chromium"  # the binary; /usr/bin/chromium is a shell wrapper
TRACE_APP = "devtools://devtools/bundled/trace_app.html"


class Failure(Exception):
    pass


class Chromium:
    """A headless Chromium and a CDP client over --remote-debugging-pipe."""

    def __init__(self, binary, width, height, profile, log):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Chromium reads commands from fd 3 and writes to fd 4. Duplicate
            # first so that a pipe end that already is 3 or 4 is not clobbered.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [
            binary,
            "--headless",
            "--remote-debugging-pipe",
            # Only our own JSON in DevTools' bundled page is ever loaded, into a
            # throwaway profile; the sandbox would refuse to start as root.
            "--no-sandbox",
            "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--mute-audio",
            "--lang=en-US",  # the labels we look for are English
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        try:
            # pass_fds keeps 3 and 4 open across exec; close_fds (run after
            # preexec_fn) closes everything else.
            self.process = subprocess.Popen(
                args, preexec_fn=child_fds, pass_fds=(3, 4), close_fds=True,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        except OSError as e:
            raise Failure(f"cannot start {binary}: {e}")
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.to_chrome, data):]
        except BrokenPipeError:
            raise Failure(f"Chromium exited before {method}")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self.next_id:  # anything else is an event: ignored
                if "error" in reply:
                    raise Failure(f"{method}: {reply['error'].get('message', reply['error'])}")
                return reply["result"]

    def _read(self, deadline, method):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.from_chrome], [], [], max(left, 0))
            if not ready:
                raise Failure(f"no answer from Chromium to {method}")
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise Failure(f"Chromium exited during {method}")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Failure:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


class Page:
    """One tab, attached with a flat session, and JavaScript evaluation in it."""

    def __init__(self, chromium, width, height):
        self.chromium = chromium
        target = chromium.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = chromium.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def send(self, method, params=None, timeout=60):
        return self.chromium.send(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression, timeout=60):
        """Runs JavaScript in the page (awaiting a promise) and returns its value.
        A JavaScript exception becomes a Failure with its message."""
        result = self.send("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True, "returnByValue": True,
            "timeout": timeout * 1000}, timeout=timeout + 5)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise Failure(text.splitlines()[0] if text else "JavaScript exception")
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=30):
        """Polls a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except Failure:
                value = None  # the page may still be loading its modules
            if value:
                return value
            if time.monotonic() > deadline:
                raise Failure(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.25)


# Imports DevTools' own modules (paths relative to trace_app.html) and checks
# that everything used later exists. Returns a list of what is missing.
CHECK_JS = r"""
(async () => {
  const missing = [];
  const need = (ok, name) => { if (!ok) missing.push(name); };
  let Timeline, UI, TraceBounds, Trace;
  try { Timeline = await import('./panels/timeline/timeline.js'); } catch (e) { return ['panels/timeline/timeline.js']; }
  try { UI = await import('./ui/legacy/legacy.js'); } catch (e) { return ['ui/legacy/legacy.js']; }
  try { TraceBounds = (await import('./services/trace_bounds/trace_bounds.js')).TraceBounds; } catch (e) { return ['services/trace_bounds/trace_bounds.js']; }
  try { Trace = await import('./models/trace/trace.js'); } catch (e) { return ['models/trace/trace.js']; }
  const Panel = Timeline.TimelinePanel?.TimelinePanel;
  need(Panel?.instance, 'TimelinePanel.instance()');
  need(Panel?.prototype.loadFromFile, 'TimelinePanel.prototype.loadFromFile()');
  need(UI.ViewManager?.ViewManager?.instance, 'UI.ViewManager.instance()');
  need(TraceBounds?.BoundsManager?.prototype.setTimelineVisibleWindow, 'TraceBounds.BoundsManager.setTimelineVisibleWindow()');
  need(Trace.Helpers?.Timing?.traceWindowFromMilliSeconds, 'Trace.Helpers.Timing.traceWindowFromMilliSeconds()');
  return missing;
})()
"""

# Opens the Performance panel and hands it the JSON as a File, as "Load
# trace..." does. The shortcuts dialog it opens on first use is switched off
# by the key DevTools itself checks for.
LOAD_JS = r"""
(async () => {
  localStorage.setItem('hide-shortcuts-dialog-for-test', 'true');
  const Timeline = await import('./panels/timeline/timeline.js');
  const UI = await import('./ui/legacy/legacy.js');
  await UI.ViewManager.ViewManager.instance().showView('timeline');
  const panel = Timeline.TimelinePanel.TimelinePanel.instance();
  await panel.loadFromFile(new File([%s], %s, {type: 'application/json'}));
  return true;
})()
"""

# Truthy once the flame chart has the loaded trace: its groups (one per
# process and thread) and the trace bounds exist.
LOADED_JS = r"""
(async () => {
  const Timeline = await import('./panels/timeline/timeline.js');
  const TraceBounds = (await import('./services/trace_bounds/trace_bounds.js')).TraceBounds;
  const panel = Timeline.TimelinePanel.TimelinePanel.instance();
  const chart = panel.flameChart?.getMainFlameChart?.();
  const groups = chart?.timelineData?.()?.groups?.length ?? 0;
  return groups > 0 && TraceBounds.BoundsManager.instance().state() !== null ? groups : 0;
})()
"""

# Helpers pasted into the UI steps' functions (a top-level const would stay
# declared in the page between evaluations): DOM search through shadow roots.
DOM_JS = r"""
const deepAll = (root = document) => {
  const out = [];
  const walk = node => {
    for (const child of node.children ?? []) {
      out.push(child);
      if (child.shadowRoot) walk(child.shadowRoot);
      walk(child);
    }
  };
  walk(root);
  return out;
};
const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
"""

# Closes every open dialog (the "Debugging connection was closed" one: the
# page has no inspected target) through its close button. Returns their texts.
CLOSE_DIALOGS_JS = r"""
(() => {
""" + DOM_JS + r"""
  const closed = [];
  for (const pane of deepAll().filter(el => el.classList?.contains('dimmed-pane') && visible(el))) {
    const button = deepAll(pane.shadowRoot ?? pane).find(
        el => el.classList?.contains('dialog-close-button') && visible(el));
    const header = deepAll(pane.shadowRoot ?? pane).find(el => el.classList?.contains('header'));
    if (button) {
      const inner = button.shadowRoot?.querySelector('button') ?? button;
      inner.click();
      closed.push((header?.textContent ?? 'dialog').trim());
    }
  }
  return closed;
})()
"""

# Hides the panel's sidebar (its own toolbar button), unticks "Screenshots"
# (the trace has none; ticked it only adds an empty strip), and hides the
# details pane under the flame chart. Returns what it could not find.
LAYOUT_JS = r"""
(async () => {
""" + DOM_JS + r"""
  const missing = [];
  const all = deepAll();
  const hide = all.find(el => el.tagName === 'BUTTON' && el.getAttribute('aria-label') === 'Hide sidebar' && visible(el));
  if (hide) hide.click();
  else if (!all.some(el => el.tagName === 'BUTTON' && el.getAttribute('aria-label') === 'Show sidebar')) missing.push('the Hide sidebar button');
  const label = el => (el.textContent.trim() || el.shadowRoot?.querySelector('label')?.textContent.trim());
  const box = all.find(el => el.tagName === 'DEVTOOLS-CHECKBOX' && label(el) === 'Screenshots');
  const input = box && (box.shadowRoot?.querySelector('input') ?? box.querySelector('input'));
  if (input) { if (input.checked) input.click(); } else missing.push('the Screenshots checkbox');
  const Timeline = await import('./panels/timeline/timeline.js');
  const split = Timeline.TimelinePanel.TimelinePanel.instance().flameChart?.detailsSplitWidget;
  if (split?.hideSidebar) split.hideSidebar(); else missing.push('the details pane (detailsSplitWidget)');
  return missing;
})()
"""

# Zooms the flame chart. With every track collapsed (the default), each
# process is one row, in the JSON's tree order; entry levels are those rows. The
# default window covers the processes whose rows fit on the screen, so every
# bar visible is whole and as wide as it can be. The first row (the root
# command, running through the whole build) does not count. RANGE null is
# that; [START, END] in ms from the start of the trace (END null: to its end)
# overrides it. Returns the window chosen.
ZOOM_JS = r"""
(async (range, margin) => {
  const Timeline = await import('./panels/timeline/timeline.js');
  const TraceBounds = (await import('./services/trace_bounds/trace_bounds.js')).TraceBounds;
  const Trace = await import('./models/trace/trace.js');
  const chart = Timeline.TimelinePanel.TimelinePanel.instance().flameChart.getMainFlameChart();
  const bounds = TraceBounds.BoundsManager.instance();
  const whole = bounds.state().milli.entireTraceBounds;
  const data = chart.timelineData();
  const height = chart.getCanvas().clientHeight;
  let from = whole.min, to = whole.max, rows = 0;
  if (range === null) {
    // Rows whose bottom edge is on the canvas. levelToOffset() needs the
    // chart laid out; without it the whole trace is shown.
    let fits = level => { try { return chart.levelToOffset(level) + chart.levelHeight(level) <= height; } catch (e) { return false; } };
    let first = Infinity, last = -Infinity;
    for (let i = 0; i < data.entryLevels.length; ++i) {
      const level = data.entryLevels[i];
      if (level === 0 || !fits(level)) continue;
      rows = Math.max(rows, level + 1);
      first = Math.min(first, data.entryStartTimes[i]);
      last = Math.max(last, data.entryStartTimes[i] + (data.entryTotalTimes[i] || 0));
    }
    if (rows > 1 && last > first) {
      const pad = (last - first) * margin;
      from = Math.max(whole.min, first - pad);
      to = Math.min(whole.max, last + pad);
    }
  }
  else {
    from = whole.min + range[0];
    to = range[1] === null ? whole.max : whole.min + range[1];
  }
  if (!(to > from)) throw new Error(`empty window ${from}..${to} ms`);
  bounds.setTimelineVisibleWindow(
      Trace.Helpers.Timing.traceWindowFromMilliSeconds(Trace.Types.Timing.Milli(from), Trace.Types.Timing.Milli(to)),
      {shouldAnimate: false, ignoreMiniMapBounds: true});
  return {from: from - whole.min, to: to - whole.min, whole: whole.max - whole.min, rows};
})(%s, %s)
"""


def parse_window(text):
    if text == "auto":
        return None
    if text == "all":
        return [0.0, None]
    try:
        start, end = (float(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected auto, all or START:END (milliseconds)")
    return [start, end]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("timeline", help="Chrome Trace Event Format JSON (proctape-analyze timeline)")
    parser.add_argument("png", help="the screenshot to write")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", DEFAULT_CHROMIUM),
                        help=f"Chromium binary (default {DEFAULT_CHROMIUM}, or $CHROMIUM)")
    parser.add_argument("--size", default="1400x800", help="viewport WIDTHxHEIGHT (default 1400x800)")
    parser.add_argument("--window", default="auto", type=parse_window,
                        help="time range shown: auto (default: the processes whose rows fit), "
                             "all, or START:END in milliseconds from the start of the trace")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each step")
    parser.add_argument("--keep-profile", action="store_true",
                        help="keep the temporary profile directory and Chromium's log")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.lower().split("x"))

    try:
        with open(args.timeline, encoding="utf-8") as f:
            text = f.read()
        json.loads(text)  # fail here, clearly, rather than inside DevTools
    except (OSError, ValueError) as e:
        raise Failure(f"{args.timeline}: not readable JSON: {e}")
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        raise Failure(f"no Chromium at {args.chromium} (Debian: apt-get install chromium)")

    profile = tempfile.mkdtemp(prefix="devtools-screenshot-")
    log_path = os.path.join(profile, "chromium.log")
    log = open(log_path, "wb")
    chromium = None
    version = "unknown version"
    ok = False
    try:
        chromium = Chromium(args.chromium, width, height, profile, log)
        version = chromium.send("Browser.getVersion").get("product", version)
        page = Page(chromium, width, height)
        page.send("Page.navigate", {"url": TRACE_APP})
        try:
            page.wait_for("document.readyState === 'complete' && !!document.querySelector('.root-view')",
                          f"{TRACE_APP} to load", args.timeout)
        except Failure as e:
            raise Failure(f"{e}: is DevTools' trace_app.html in this build?")
        missing = page.evaluate(CHECK_JS, args.timeout)
        if missing:
            raise Failure("this DevTools lacks what the script uses: " + ", ".join(missing))

        page.evaluate(LOAD_JS % (json.dumps(text), json.dumps(os.path.basename(args.timeline))),
                      args.timeout)
        groups = page.wait_for(LOADED_JS, "the Performance panel to show the trace "
                               "(a file without events, or not in Trace Event Format?)", args.timeout)

        # The "connection closed" dialog shows up on its own schedule: wait
        # for it a little, close it, and check again just before the shot.
        deadline = time.monotonic() + 5
        closed = []
        while not closed and time.monotonic() < deadline:
            closed = page.evaluate(CLOSE_DIALOGS_JS)
            time.sleep(0.25)
        missing = page.evaluate(LAYOUT_JS)
        if missing:
            raise Failure("cannot find " + ", ".join(missing) + " in the Performance panel")
        time.sleep(0.5)  # let the flame chart take its new size before measuring rows
        window = page.evaluate(ZOOM_JS % (json.dumps(args.window), 0.02))
        time.sleep(1)  # one frame would do; the panel redraws asynchronously
        closed += page.evaluate(CLOSE_DIALOGS_JS)

        png = base64.b64decode(page.send("Page.captureScreenshot", {"format": "png"})["data"])
        with open(args.png, "wb") as f:
            f.write(png)
        print(f"devtools-screenshot: {args.png}: {width}x{height}, {len(png) // 1024} KiB, "
              f"{groups} tracks, showing {window['from']:.0f}-{window['to']:.0f} ms "
              f"of {window['whole']:.0f} ms ({version}"
              + (f"; closed: {'; '.join(closed)}" if closed else "") + ")")
        ok = True
    except Failure as e:
        raise Failure(f"{e} ({version})")
    finally:
        crashed = chromium is not None and chromium.process.poll() is not None
        if chromium:
            chromium.close()
        log.close()
        if crashed and not ok:  # a clean failure needs no log; a crash does
            with open(log_path, "rb") as f:
                chromium_log = f.read().decode(errors="replace")
            lines = [l for l in chromium_log[-3000:].splitlines() if "dbus" not in l][-8:]
            if lines:
                print("devtools-screenshot: the end of Chromium's log:", *lines, sep="\n  ", file=sys.stderr)
            if "SkFontMgr" in chromium_log:  # Skia aborts when fontconfig finds no font
                print("devtools-screenshot: Chromium found no fonts: install one "
                      "(Debian: apt-get install fonts-dejavu-core)", file=sys.stderr)
        if args.keep_profile:
            print(f"devtools-screenshot: profile and log kept in {profile}", file=sys.stderr)
        else:
            shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        sys.exit(f"devtools-screenshot: {e}")
