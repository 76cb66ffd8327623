// Stemline web application: the few behaviours the pages need, without a framework.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-HTTP fallback: select a temporary field and use the old copy command.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    // Copy: any element with data-copy="#id" (copies that element's text or value) or
    // data-copy-text="...".
    var copier = event.target.closest("[data-copy]");
    if (copier) {
      event.preventDefault();
      var source = document.querySelector(copier.getAttribute("data-copy"));
      var text = source ? (source.value !== undefined ? source.value : source.textContent) : "";
      copyText(text.trim()).then(function () {
        var note = document.querySelector(copier.getAttribute("data-copied") || "#copied");
        if (note) { note.textContent = "Copied to the clipboard"; note.hidden = false; }
      });
      return;
    }
    // The avatar menu opens on click and closes on a click elsewhere.
    var avatar = event.target.closest(".avatar-menu > button");
    document.querySelectorAll(".avatar-menu.open").forEach(function (menu) {
      if (!avatar || menu !== avatar.parentElement) menu.classList.remove("open");
    });
    if (avatar) avatar.parentElement.classList.toggle("open");
    // "Select all" boxes tick every box of their group.
    var all = event.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll(all.getAttribute("data-select-all")).forEach(function (box) {
        if (!box.disabled) box.checked = all.checked;
      });
    }
  });

  // Forms and buttons with data-confirm ask first (reset, revoke, remove).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    if (form.hasAttribute("data-progress") && !(submitter && submitter.name === "single")) {
      runWithProgress(form, event);
      return;
    }
    // Long operations: disable the button and show that work is under way.
    if (form.hasAttribute("data-busy")) {
      form.classList.add("is-busy");
      if (submitter) setTimeout(function () { submitter.disabled = true; }, 0);
    }
  });

  // Bulk actions: post the ticked rows a batch at a time and show the progress.
  function runWithProgress(form, event) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=ids]:checked"));
    if (!boxes.length) return;
    event.preventDefault();
    var bar = document.querySelector(form.getAttribute("data-progress"));
    var label = document.querySelector(form.getAttribute("data-progress") + "-label");
    var ids = boxes.map(function (b) { return b.value; });
    var size = 10, done = 0, failed = [];
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    if (bar) { bar.hidden = false; bar.max = ids.length; bar.value = 0; }
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    function next() {
      if (done >= ids.length) {
        var url = new URL(window.location.href);
        url.searchParams.set("confirmed", String(ids.length - failed.length));
        if (failed.length) url.searchParams.set("failed", failed.join(","));
        window.location.href = url.toString();
        return;
      }
      var batch = ids.slice(done, done + size);
      var body = new URLSearchParams();
      body.append("csrfmiddlewaretoken", token);
      body.append("kind", form.querySelector("input[name=kind]").value);
      batch.forEach(function (id) { body.append("ids", id); });
      fetch(form.action, { method: "POST", body: body, headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (answer) { failed = failed.concat(answer.failed || []); })
        .catch(function () { failed = failed.concat(batch); })
        .then(function () {
          done += batch.length;
          if (bar) bar.value = done;
          if (label) label.textContent = done + " of " + ids.length + " confirmed";
          next();
        });
    }
    next();
  }

  // New Token: show the methods of the chosen type and the customer or vendor field.
  function syncTokenType() {
    var select = document.querySelector("#id_token_type");
    if (!select) return;
    var type = select.value;
    document.querySelectorAll("fieldset[data-token-type]").forEach(function (set) {
      set.disabled = set.getAttribute("data-token-type") !== type;
    });
    document.querySelectorAll("[data-party]").forEach(function (block) {
      block.hidden = block.getAttribute("data-party") !== type;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.id === "id_token_type") syncTokenType();
  });
  document.addEventListener("DOMContentLoaded", syncTokenType);

  // Order entry: Enter in a stock row's boxes or price field adds that row (not the form's
  // first button, which is Search).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var field = event.target.closest && event.target.closest("[data-add-row]");
    if (!field) return;
    var button = document.querySelector(field.getAttribute("data-add-row"));
    if (button) { event.preventDefault(); button.click(); }
  });
})();

// Recording a payment: the applied sum and what is left on account follow the amounts as
// they are typed (form[data-remainder]; inputs [data-apply]; the received amount [data-total],
// or a payment's fixed unapplied amount [data-total-fixed]). Cents as integers: no float drift.
(function () {
  "use strict";

  function cents(text) {
    var match = /^\s*(-?)(\d*)(?:\.(\d{0,2}))?\s*$/.exec(text || "");
    if (!match || (match[2] === "" && !match[3])) return text && text.trim() ? NaN : 0;
    var value = parseInt(match[2] || "0", 10) * 100 + parseInt(((match[3] || "") + "00").slice(0, 2), 10);
    return match[1] ? -value : value;
  }

  function show(value) {
    var sign = value < 0 ? "-" : "";
    value = Math.abs(value);
    var rest = String(value % 100);
    return sign + Math.floor(value / 100) + "." + (rest.length < 2 ? "0" + rest : rest);
  }

  function update(form) {
    var applied = 0, bad = false;
    form.querySelectorAll("[data-apply]").forEach(function (input) {
      var v = cents(input.value);
      if (isNaN(v)) bad = true; else applied += v;
    });
    var totalInput = form.querySelector("[data-total]");
    var fixed = form.querySelector("[data-total-fixed]");
    var total = totalInput ? cents(totalInput.value) : cents(fixed ? fixed.getAttribute("data-total-fixed") : "0");
    var out = document.querySelector(form.getAttribute("data-remainder"));
    var sum = document.querySelector("#applied-sum");
    var label = document.querySelector("#remainder-label");
    if (sum) sum.textContent = bad ? "?" : show(applied);
    if (!out) return;
    if (bad || isNaN(total)) { out.textContent = "?"; return; }
    var left = total - applied;
    out.textContent = show(Math.abs(left));
    out.classList.toggle("over", left < 0);
    if (label) label.textContent = left < 0 ? "applied beyond the amount received by" : "left on account";
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-remainder]");
    if (form) update(form);
  });
  document.addEventListener("click", function (event) {
    var filler = event.target.closest("[data-fill]");
    if (!filler) return;
    var form = filler.closest("form");
    var input = form.querySelector("[name='" + filler.getAttribute("data-fill-target") + "']");
    if (input) { input.value = filler.getAttribute("data-fill"); }
    if (form.hasAttribute("data-remainder")) update(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-remainder]").forEach(update);
  });
})();
