// The write-up editor: live preview (rendered by the server, as the page will be)
// and "insert image at the cursor". Without JS, the Preview button re-renders the
// page with the preview and each figure shows a snippet to copy.
(function () {
  "use strict";
  var form = document.querySelector("form.writeup-form");
  var text = document.getElementById("body_md");
  if (!form || !text) return;

  var section = document.getElementById("preview");
  var body = document.getElementById("preview-body");
  var status = section.querySelector(".preview-status");
  var live = document.getElementById("live-preview");
  var token = form.querySelector("input[name=csrf_token]");
  var timer = null;
  var asked = 0;

  function preview() {
    var mine = ++asked;
    var data = new FormData();
    data.append("csrf_token", token ? token.value : "");
    data.append("body_md", text.value);
    status.textContent = "Updating…";
    section.hidden = false;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (json) { return [response.status, json]; });
    }).then(function (result) {
      if (mine !== asked) return;  // an older answer arriving late
      if (result[0] === 200) {
        // Sanitized by the server's render_markdown, like the page itself.
        body.innerHTML = result[1].html || "<p class=\"muted\">Nothing written yet.</p>";
        status.textContent = "";
      } else {
        status.textContent = result[1].error || "The preview could not be made.";
      }
    }).catch(function () {
      if (mine === asked) status.textContent = "The preview could not be made (offline?).";
    });
  }

  function later() {
    if (!live.checked) return;
    clearTimeout(timer);
    timer = setTimeout(preview, 800);
  }

  live.parentNode.hidden = false;
  text.addEventListener("input", later);
  form.querySelector("button[name=preview]").addEventListener("click", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    preview();
  });

  // Insert a figure's markdown where the cursor is (or replace the selection).
  var lastStart = text.value.length;
  var lastEnd = lastStart;
  function remember() { lastStart = text.selectionStart; lastEnd = text.selectionEnd; }
  text.addEventListener("select", remember);
  text.addEventListener("keyup", remember);
  text.addEventListener("click", remember);
  text.addEventListener("blur", remember);

  Array.prototype.forEach.call(document.querySelectorAll("button.insert-image"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var snippet = button.dataset.markdown;
      var before = text.value.slice(0, lastStart);
      var after = text.value.slice(lastEnd);
      // A paragraph of its own, so it renders as a figure and not inside a sentence.
      var lead = !before || /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
      var trail = /^\n\n/.test(after) ? "" : /^\n/.test(after) ? "\n" : "\n\n";
      var insert = lead + snippet + trail;
      text.focus();
      text.setRangeText(insert, lastStart, lastEnd, "end");
      remember();
      text.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input.snippet-input"), function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
