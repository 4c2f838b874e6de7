// The static twin of an lrcourse Explorer (explorer.py, Explorer.static_html), for pages
// without a kernel: one control per parameter moves over its grid (a range input for a
// number, a <select> for a choice among names), and the image shows the frame precomputed
// for that combination of grid points. No library, no network.
//
// `root` is the explorer's <div class="lr-explorer">. It carries
//   data-shape   the grid sizes, one per control, e.g. [7, 5];
//   data-start   the grid index each control starts at (and `reset` returns to);
//   data-alt     what the figure shows, to which the image's alt text adds the values;
// and holds the frames (in C order over the grids) in <script class="lrx-frames">: each an
// image's src, a data: URL (base64 PNG) as the package writes it, or a file's URL where the
// site has moved the frames to files (book/_ext/course_site.py), so a page loads only the
// frame it shows and fetches the others when a reader moves a control.
// Each control has data-k (its place in the order), data-name (its label) and, next to it,
// its grid values as text in a <script type="application/json">. A screen reader hears a
// slider's value as "η = 0.1" (aria-valuetext), and the image's alt text follows the frame.
function explorerTwin(root) {
  var shape = JSON.parse(root.dataset.shape), start = JSON.parse(root.dataset.start);
  var frames = JSON.parse(root.querySelector("script.lrx-frames").textContent);
  var controls = root.querySelectorAll("[data-k]"), img = root.querySelector("img");
  function show() {
    var index = 0, said = [];  // the frame of the controls' grid indices (C order, like numpy)
    controls.forEach(function (control, k) {
      var labels = JSON.parse(control.parentNode.querySelector("script").textContent);
      var text = control.dataset.name + " = " + labels[+control.value];
      var output = control.parentNode.querySelector("output");
      if (output) output.textContent = labels[+control.value];
      if (control.type === "range") control.setAttribute("aria-valuetext", text);
      said.push(text);
      index = index * shape[k] + (+control.value);
    });
    img.src = frames[index];
    img.alt = root.dataset.alt + " (" + said.join(", ") + ")";
  }
  controls.forEach(function (control) {
    control.addEventListener("input", show);
    control.addEventListener("change", show);
  });
  root.querySelector("button[data-reset]").addEventListener("click", function () {
    controls.forEach(function (control, k) { control.value = String(start[k]); });
    show();
  });
}
