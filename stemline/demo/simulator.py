"""A marketplace simulator: a small storefront per marketplace that receives Stemline's pushed
feed (checking every signature), shows what it holds, and places a buyer's order through the
API with the hand-off bundle, as DWF, FTD, BloomNet or iBuyFlowers would.

It is a separate program on purpose (no Django, no database): it knows the platform only through
the bundle, the signed webhooks and the public API. `stemline simulator` runs it."""

import base64
import hashlib
import html
import json
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f4;color:#1d2a1f}
header{background:#27452f;color:#fff;padding:14px 24px}header a{color:#cde8d3}
main{padding:18px 24px;max-width:1100px}table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:6px 8px;border-bottom:1px solid #e1e5df;text-align:left;font-size:14px}
th{background:#eef2ec}.ok{background:#e3f4e6;padding:10px}.err{background:#fbe4e4;padding:10px}
input[type=number]{width:60px}button{background:#2f6b3d;color:#fff;border:0;padding:5px 10px}
.muted{color:#667}
"""
# The pages' one <style> is allowed by its hash and their one script is a file of its own, so
# the simulator needs no 'unsafe-inline'.
CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    + "'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REFRESH_SECONDS = 5
# The storefront refreshes itself every few seconds to show the pushed feed. A person typing a
# quantity must not lose it: the script keeps what was typed (per line, for this tab) and puts
# it back after the refresh, and waits while a field has the focus. It reloads the market's own
# page, never a form's answer (that would ask to post the order again). Without script, a
# <noscript> refresh keeps the page live.
SCRIPT = """
(function () {
  "use strict";
  var key = "sim-boxes:" + location.pathname.split("/")[1];
  var kept = {};
  try { kept = JSON.parse(sessionStorage.getItem(key) || "{}"); } catch (e) { kept = {}; }
  document.querySelectorAll("input[name=boxes]").forEach(function (input) {
    var id = input.getAttribute("data-line");
    if (kept[id]) { input.value = kept[id]; }
    input.addEventListener("input", function () {
      kept[id] = input.value;
      sessionStorage.setItem(key, JSON.stringify(kept));
    });
  });
  document.querySelectorAll("form[data-buy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      delete kept[form.getAttribute("data-buy")];
      sessionStorage.setItem(key, JSON.stringify(kept));
    });
  });
  var home = document.body.getAttribute("data-home");
  setInterval(function () {
    var active = document.activeElement;
    if (active && active.name === "boxes") { return; }
    location.replace(home);
  }, REFRESH_MS);
})();
""".replace("REFRESH_MS", str(REFRESH_SECONDS * 1000))


class Market:
    """One marketplace's side: its bundle, the feed it received, and its orders."""

    def __init__(self, slug: str, bundle: dict, api_url: str):
        self.slug = slug
        self.bundle = bundle
        self.api_url = api_url.rstrip("/")
        secret = (bundle.get("webhook") or {}).get("signingSecret")
        self.verifier = Webhook(secret) if secret else None
        self.lock = threading.Lock()
        self.items: dict[int, dict] = {}
        self.line_seq: dict[int, int] = {}
        self.floor_seq = 0  # the last snapshot's sequence: older deltas change nothing
        self.snapshot_number = 0  # the last snapshot applied: an older one changes nothing
        self.seen: set[str] = set()
        self.received = 0
        self.duplicates = 0
        self.refused = 0
        self.snapshots = 0
        self.delays_ms: list[float] = []
        self.orders: list[dict] = []
        self.messages: list[dict] = []  # the last messages, for a person (or a test) to read
        self.slow_seconds = 0.0  # a slow marketplace, for fault tests

    # The feed -----------------------------------------------------------------------------

    def receive(self, body: bytes, headers: dict) -> int:
        if self.slow_seconds:
            time.sleep(self.slow_seconds)
        if self.verifier is None:
            self.refused += 1
            return 401
        try:
            message = self.verifier.verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.refused += 1
            return 401
        msg_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        now = time.time()
        with self.lock:
            if msg_id in self.seen:
                self.duplicates += 1
                return 200  # delivered twice (a retry after a lost answer): harmless
            self.seen.add(msg_id)
            self.received += 1
            self.messages = [*self.messages[-999:], message]
            kind = message.get("type")
            if kind == "inventory.snapshot":
                self.apply_snapshot(message)
            elif kind in ("inventory.changed", "inventory.batch"):
                # A batch carries several deltas, each as it would come alone, in order.
                deltas = message.get("events", []) if kind == "inventory.batch" else [message]
                for delta in deltas:
                    self.apply_delta(delta)
                    at = delta.get("at")
                    if at:
                        self.delays_ms.append((now - datetime.fromisoformat(at).timestamp()) * 1000)
        return 200

    def apply_snapshot(self, message: dict) -> None:
        """docs/channels.md, "Applying the feed": a snapshot older than the one applied is
        dropped; else each line takes the snapshot's word, unless a delta newer than the
        snapshot (numbered after its `seq`) was applied to it already."""
        number, seq = int(message.get("snapshot", 0)), int(message.get("seq", 0))
        if number and number <= self.snapshot_number:
            return
        self.snapshots += 1
        self.snapshot_number = number
        taken = {int(i["inventoryIds"]): i for i in message.get("items", [])}
        newer = {line for line, applied in self.line_seq.items() if applied > seq}
        items = {line: item for line, item in taken.items() if line not in newer}
        items.update({line: self.items[line] for line in newer if line in self.items})
        self.items = items
        self.floor_seq = max(self.floor_seq, seq)

    def apply_delta(self, message: dict) -> None:
        """A delta changes its line unless the line has seen a later one, or a snapshot
        reflects it (its number is not above the snapshot's `seq`)."""
        line_id, seq = int(message["inventoryId"]), int(message.get("seq", 0))
        if seq <= max(self.floor_seq, self.line_seq.get(line_id, 0)):
            return
        self.line_seq[line_id] = seq
        item = message.get("item")
        if item and item.get("quantity", 0) > 0:
            self.items[line_id] = item
        else:
            self.items.pop(line_id, None)

    def state(self) -> dict:
        with self.lock:
            delays = sorted(self.delays_ms)
            return {
                "marketplace": self.slug,
                "items": list(self.items.values()),
                "received": self.received,
                "duplicates": self.duplicates,
                "refused": self.refused,
                "snapshots": self.snapshots,
                "delayMs": {
                    "count": len(delays),
                    "p50": statistics.median(delays) if delays else None,
                    "p99": delays[int(len(delays) * 0.99) - 1] if len(delays) >= 100 else None,
                    "max": delays[-1] if delays else None,
                },
                "orders": list(self.orders),
            }

    def load(self, wait: float = 60.0) -> int:
        """Start full: fetch what the customer can buy now through the API (a restarted
        simulator otherwise shows nothing until the next snapshot). Lines the feed already
        spoke about keep the feed's word. A platform not up yet (the demo starts both at once)
        is asked again every second for `wait` seconds. Returns the number of lines loaded."""
        try:
            self.customer_token()
        except RuntimeError:
            return 0
        deadline = time.monotonic() + wait
        while True:
            try:
                return self._load()
            except OSError:
                if time.monotonic() >= deadline:
                    return 0
                time.sleep(1.0)

    def _load(self) -> int:
        where = {"customerId": self.bundle["customerId"], "rows": 500}
        if "locationId" in self.bundle:
            where["companyLocationId"] = self.bundle["locationId"]
        loaded: dict[int, dict] = {}
        page = 1
        while True:
            status, answer = self.call("ecommerce/inventory.list", {**where, "page": page})
            if status >= 500:
                raise ConnectionError(f"the platform answered {status}")  # starting: try again
            if answer.get("status") != 1:
                return 0
            for item in answer.get("inventoryItems", []):
                if item.get("quantity", 0) > 0:
                    loaded[int(item["inventoryIds"])] = item
            if page * answer.get("rows", 500) >= answer.get("total", 0):
                break
            page += 1
        with self.lock:
            if self.snapshots:
                return 0  # a snapshot arrived meanwhile: it is the newer picture
            for line_id, item in loaded.items():
                if line_id not in self.line_seq:
                    self.items[line_id] = item
        return len(loaded)

    def reset_delays(self) -> None:
        with self.lock:
            self.delays_ms = []

    # Buying through the API -----------------------------------------------------------------

    def customer_token(self) -> str:
        for token in self.bundle.get("tokens", []):
            if token["type"] == "customer":
                return token["token"]
        raise RuntimeError("the bundle has no Customer token")

    def call(self, method: str, params: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.api_url}/api/{method}",
            data=json.dumps(params).encode(),
            headers={
                "Content-Type": "application/json",
                "authenticationToken": self.customer_token(),
                "X-ACCOUNT": str(self.bundle["companyId"]),
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                return exc.code, json.loads(body or b"{}")
            except ValueError:
                return exc.code, {"status": 0, "message": body.decode(errors="replace")[:300]}

    def buy(self, wanted: list[tuple[int, int]]) -> dict:
        """Place one order: create the web order, add each line, check out. The result names
        the line a refusal is about."""
        where = {"customerId": self.bundle["customerId"]}
        if "locationId" in self.bundle:
            where["companyLocationId"] = self.bundle["locationId"]
        status, answer = self.call("web-order.create", where)
        if answer.get("status") != 1:
            return {"ok": False, "httpStatus": status, "message": answer.get("message")}
        order_id = answer["webOrderId"]
        for line_id, boxes in wanted:
            with self.lock:
                item = self.items.get(line_id)
            params = {
                **where,
                "webOrderId": order_id,
                "inventoryIds": str(line_id),
                "inventoryOrigin": item["inventoryOrigin"] if item else 1,
                "quantity": boxes,
            }
            if "carrierId" in self.bundle:
                params["carrierId"] = self.bundle["carrierId"]
            status, answer = self.call("web-order-item.add", params)
            if answer.get("status") != 1:
                self.call("web-order.delete", {**where, "webOrderId": order_id})
                result = {
                    "ok": False,
                    "httpStatus": status,
                    "inventoryId": line_id,
                    "message": answer.get("message"),
                }
                self.orders.append(result)
                return result
        status, answer = self.call("web-order.checkout", {**where, "webOrderId": order_id})
        result = {"ok": answer.get("status") == 1, "httpStatus": status, **answer}
        self.orders.append(result)
        return result

    # Pages ------------------------------------------------------------------------------------

    def page(self, notice: str = "") -> str:
        state = self.state()
        rows = []
        for item in sorted(
            state["items"], key=lambda i: (i["productDescription"], i["inventoryIds"])
        ):
            line_id = html.escape(str(item["inventoryIds"]))
            rows.append(
                "<tr><td>{desc}</td><td>{box}</td><td>{units}</td><td>{origin}</td>"
                "<td>{date}</td><td>{qty}</td><td>{price}</td><td><form method=post "
                "action='/{slug}/buy' data-buy='{id}'><input type=hidden name=inventoryId "
                "value='{id}'><input type=number name=boxes value=1 min=1 max={qty} "
                "data-line='{id}' aria-label='Boxes'> "
                "<button>Buy</button></form></td></tr>".format(
                    desc=html.escape(item["productDescription"]),
                    box=html.escape(item["boxTypeCode"]),
                    units=item["unitsPerBox"],
                    origin="On hand" if item["inventoryOrigin"] == 1 else "Future",
                    date=html.escape(item["availableDate"]),
                    qty=item["quantity"],
                    price=html.escape(str(item["price"])),
                    slug=self.slug,
                    id=line_id,
                )
            )
        name = html.escape(self.bundle.get("marketplaceName", self.slug))
        return (
            f"<!doctype html><html><head><meta charset=utf-8><title>{name} (simulator)</title>"
            f"<style>{STYLE}</style><noscript><meta http-equiv=refresh "
            f"content={REFRESH_SECONDS};url=/{self.slug}/></noscript>"
            f"<script src='/sim.js' defer></script></head><body data-home='/{self.slug}/'>"
            "<header>"
            f"<strong>{name}</strong> <span class=muted>marketplace simulator</span> · "
            f"<a href='/'>all marketplaces</a></header><main>{notice}"
            f"<p class=muted>{len(state['items'])} lines · {state['received']} messages received"
            f" · {state['refused']} refused signatures · live, pushed by Stemline</p>"
            "<table><tr><th>Product</th><th>Box</th><th>Units/box</th><th>Origin</th>"
            "<th>Available</th><th>Boxes</th><th>Price</th><th></th></tr>"
            + "".join(rows)
            + "</table></main></body></html>"
        )


class Simulator:
    """Every marketplace of one simulator process, served on one port."""

    def __init__(self, bundles: dict[str, dict], api_url: str, host="127.0.0.1", port=8001):
        self.markets = {slug: Market(slug, b, api_url) for slug, b in bundles.items()}
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: the platform's log is the interesting one
                pass

            def _send(self, status: int, body: str, content_type="text/html; charset=utf-8"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _market(self) -> tuple[Market | None, str]:
                parts = self.path.split("?")[0].strip("/").split("/")
                market = simulator.markets.get(parts[0]) if parts and parts[0] else None
                return market, "/".join(parts[1:])

            def do_GET(self):
                if self.path == "/sim.js":
                    return self._send(200, SCRIPT, "text/javascript; charset=utf-8")
                market, rest = self._market()
                if market is None:
                    links = "".join(
                        f"<li><a href='/{slug}/'>{html.escape(m.bundle.get('marketplaceName', slug))}"
                        "</a></li>"
                        for slug, m in simulator.markets.items()
                    )
                    return self._send(
                        200,
                        f"<!doctype html><style>{STYLE}</style><main><h1>Marketplace simulator"
                        f"</h1><ul>{links}</ul></main>",
                    )
                if rest == "state.json":
                    return self._send(200, json.dumps(market.state()), "application/json")
                return self._send(200, market.page())

            def do_POST(self):
                market, rest = self._market()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if market is None:
                    return self._send(404, "no such marketplace", "text/plain")
                if rest == "webhook":
                    status = market.receive(body, dict(self.headers.items()))
                    return self._send(status, "", "text/plain")
                if rest == "reset-delays":
                    market.reset_delays()
                    return self._send(200, "{}", "application/json")
                if rest in ("buy", "buy.json"):
                    if rest == "buy.json":
                        wanted = [(int(a), int(b)) for a, b in json.loads(body)["lines"]]
                    else:
                        form = urllib.parse.parse_qs(body.decode())
                        wanted = [(int(form["inventoryId"][0]), int(form["boxes"][0]))]
                    result = market.buy(wanted)
                    if rest == "buy.json":
                        return self._send(200, json.dumps(result), "application/json")
                    if result["ok"]:
                        notice = (
                            "<p class=ok>Order placed: "
                            + html.escape(
                                ", ".join(
                                    f"{k} {result[k]}"
                                    for k in ("invoiceNumber", "prebookNumber")
                                    if result.get(k)
                                )
                            )
                            + "; it waits for the wholesaler's confirmation.</p>"
                        )
                    else:
                        notice = f"<p class=err>{html.escape(str(result.get('message')))}</p>"
                    return self._send(200, market.page(notice))
                return self._send(404, "not found", "text/plain")

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    def add(self, slug: str, bundle: dict, api_url: str) -> Market:
        self.markets[slug] = Market(slug, bundle, api_url)
        return self.markets[slug]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def webhook_url(self, slug: str) -> str:
        return f"{self.url}/{slug}/webhook"

    def start(self, *, load: bool = True) -> "Simulator":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        if load:
            # In the background: a platform that is slow or not up yet must not hold the port.
            for market in self.markets.values():
                threading.Thread(target=market.load, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
