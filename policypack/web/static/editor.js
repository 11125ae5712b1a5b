// policypack editor: the live preview and messages beside their fields. The page works without it
// (a save is an ordinary form post); this only sends the unsaved form to /preview while you type.
(function () {
  "use strict";
  var form = document.getElementById("editor");
  var frame = document.getElementById("preview");
  if (!form || !frame) return;
  var status = document.getElementById("preview-status");
  var timer = null, sent = 0, anchor = "", kept = 0;
  window.policypackPreviews = 0;

  function para(cls, strong, text) {
    var p = document.createElement("p");
    p.className = "msg " + cls;
    if (strong) {
      var s = document.createElement("strong");
      s.textContent = strong + ": ";
      p.appendChild(s);
    }
    p.appendChild(document.createTextNode(text));
    return p;
  }

  function show(reply) {
    var boxes = form.querySelectorAll(".msgs");
    for (var i = 0; i < boxes.length; i++) boxes[i].textContent = "";
    var bad = form.querySelectorAll("[aria-invalid]");
    for (i = 0; i < bad.length; i++) bad[i].removeAttribute("aria-invalid");
    Object.keys(reply.messages || {}).forEach(function (id) {
      var box = document.getElementById(id + "-msg");
      var field = document.getElementById(id);
      reply.messages[id].forEach(function (m) {
        if (box) box.appendChild(para("msg-" + m[0], m[0] === "error" ? "Problem" : "Check", m[1]));
      });
      if (field) field.setAttribute("aria-invalid", "true");
    });
    var general = document.getElementById("general");
    general.textContent = "";
    (reply.general || []).forEach(function (m) { general.appendChild(para("msg-" + m[0], "", m[1])); });
    var consult = document.getElementById("consultation");
    consult.textContent = "";
    var names = [];
    (reply.consultation || []).forEach(function (c) {
      names.push(c[0] + " " + c[1]);
      var box = c[2] && document.getElementById(c[2] + "-msg");
      if (box) box.appendChild(para("msg-consult", "Needs union consultation",
        "this is a change outside the customisable slots."));
    });
    if (names.length) consult.appendChild(para("msg-consult", "Needs union consultation", names.join(", ") + "."));
  }

  function update() {
    var mine = ++sent;
    status.textContent = "Updating the preview\u2026";
    fetch(form.getAttribute("data-preview"), {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": form.getAttribute("data-csrf")},
      body: new URLSearchParams(new FormData(form))
    }).then(function (r) {
      return r.json().then(function (j) { return [r, j]; });
    }).then(function (rj) {
      if (mine !== sent) return;
      show(rj[1]);
      if (rj[1].preview) {
        frame.setAttribute("data-anchor", anchor);
        try { kept = frame.contentWindow.scrollY; } catch (e) { kept = 0; }
        frame.src = rj[1].preview;
      } else {
        status.textContent = "The preview shows the last version without problems.";
      }
    }).catch(function () {
      if (mine === sent) status.textContent = "The preview could not be updated.";
    });
  }

  function later(event) {
    var t = event.target;
    if (!t || !t.name || t.name === "editor" || t.name === "message") return;
    anchor = t.getAttribute("data-anchor") || "";
    clearTimeout(timer);
    timer = setTimeout(update, 100);
  }

  frame.addEventListener("load", function () {
    var a = frame.getAttribute("data-anchor");
    try {  // at the clause being edited, or where the reader had scrolled to
      var el = a && frame.contentDocument.getElementById(a);
      if (el) el.scrollIntoView({block: "start"});
      else frame.contentWindow.scrollTo(0, kept);
    } catch (e) { /* a preview from elsewhere: leave it where it is */ }
    if (frame.src.indexOf("/preview/") >= 0) {
      status.textContent = "Preview updated (not saved yet).";
      window.policypackPreviews += 1;
    }
  });
  form.addEventListener("input", later);
  form.addEventListener("change", later);

  var copies = document.querySelectorAll("button.copy");
  for (var i = 0; i < copies.length; i++) {
    copies[i].hidden = false;
    copies[i].addEventListener("click", function (event) {
      var b = event.currentTarget;
      var to = document.getElementById(b.getAttribute("data-to"));
      to.value = document.getElementById(b.getAttribute("data-from")).textContent;
      to.dispatchEvent(new Event("input", {bubbles: true}));
      to.focus();
    });
  }
})();
