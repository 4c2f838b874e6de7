// The static twin of an lrcourse Explorer (explorer.py, Explorer.static_html), for pages
// without a kernel: one range input per parameter moves over its grid, and the image shows
// the frame precomputed for that combination of grid points. No library, no network.
//
// `root` is the explorer's <div class="lr-explorer">. It carries
//   data-shape   the grid sizes, one per input, e.g. [7, 5];
//   data-start   the grid index each input starts at (and `reset` returns to);
// and holds the frames (base64 PNGs, in C order over the grids) in <script class="lrx-frames">,
// and each input's labels in a <script type="application/json"> next to it.
function explorerTwin(root) {
  var shape = JSON.parse(root.dataset.shape), start = JSON.parse(root.dataset.start);
  var frames = JSON.parse(root.querySelector("script.lrx-frames").textContent);
  var inputs = root.querySelectorAll("input[type=range]"), img = root.querySelector("img");
  function show() {
    var index = 0;  // the frame of the inputs' grid indices (C order, like numpy's ravel)
    inputs.forEach(function (input, k) {
      var labels = JSON.parse(input.parentNode.querySelector("script").textContent);
      input.parentNode.querySelector("output").textContent = labels[+input.value];
      index = index * shape[k] + (+input.value);
    });
    img.src = "data:image/png;base64," + frames[index];
  }
  inputs.forEach(function (input) { input.addEventListener("input", show); });
  root.querySelector("button[data-reset]").addEventListener("click", function () {
    inputs.forEach(function (input, k) { input.value = start[k]; });
    show();
  });
}
