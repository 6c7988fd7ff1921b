// Steps through the backward pass drawn above. The steps come as JSON from the
// page itself; nothing is fetched. Each step may set the gradient lines of a
// node; the state at step k is every step up to k applied in order.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("steps").textContent);
  var steps = data.steps;
  var svg = document.querySelector("#picture svg");
  var status = document.getElementById("status");
  var counter = document.getElementById("counter");
  var back = document.getElementById("back");
  var next = document.getElementById("next");
  var svgNS = svg.namespaceURI;
  var label = document.createElementNS(svgNS, "text");
  label.setAttribute("class", "edge-label");
  svg.appendChild(label);
  var current = 0;

  // a small graph is drawn larger, up to the width of the page
  var box = document.getElementById("picture");
  var w0 = parseFloat(svg.getAttribute("width")), h0 = parseFloat(svg.getAttribute("height"));
  var zoom = Math.max(0.8, Math.min(1.8, (box.clientWidth - 16) / w0));
  if (zoom !== 1) {
    svg.setAttribute("width", Math.round(w0 * zoom));
    svg.setAttribute("height", Math.round(h0 * zoom));
  }

  function gradLines(node) {
    var lines = [];
    for (var k = 0; ; k++) {
      var el = document.getElementById("n" + node + "g" + k);
      if (!el) { return lines; }
      lines.push(el);
    }
  }

  function clear(cls) {
    var marked = svg.querySelectorAll("." + cls);
    for (var i = 0; i < marked.length; i++) { marked[i].classList.remove(cls); }
  }

  function mark(id, cls) {
    var el = document.getElementById(id);
    if (el) { el.classList.add(cls); }
    return el;
  }

  function show(k) {
    current = Math.max(0, Math.min(k, steps.length - 1));
    var shown = {};
    for (var i = 0; i <= current; i++) {
      var set = steps[i].set;
      for (var node in set) { shown[node] = set[node]; }
    }
    var lines = svg.querySelectorAll("text[id*='g']");
    for (var j = 0; j < lines.length; j++) {
      if (/^n\d+g\d+$/.test(lines[j].id)) { lines[j].textContent = ""; }
    }
    for (var n in shown) {
      var els = gradLines(n);
      for (var m = 0; m < els.length; m++) { els[m].textContent = shown[n][m] || ""; }
    }
    clear("current");
    clear("upstream");
    label.textContent = "";
    var step = steps[current];
    if (step.node !== null) {
      var here = mark("n" + step.node, "current");
      if (here && here.scrollIntoView) { here.scrollIntoView({block: "nearest", inline: "nearest"}); }
    }
    if (step.consumer !== null) {
      mark("o" + step.consumer, "upstream");
      mark("n" + step.consumer, "upstream");
      mark("r" + step.consumer, "upstream");
    }
    if (step.edge) {
      var edge = mark(step.edge, "current");
      if (edge && step.label) {
        var mid = edge.getPointAtLength(edge.getTotalLength() / 2);
        label.setAttribute("x", mid.x);
        label.setAttribute("y", mid.y - 6);
        label.textContent = step.label;
      }
      if (edge) { edge.parentNode.appendChild(edge); }
    }
    status.textContent = step.text;
    counter.textContent = "step " + (current + 1) + " of " + steps.length;
    back.disabled = current === 0;
    next.disabled = current === steps.length - 1;
  }

  back.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
  });
  show(0);
}());
