// Loaded by every page of the site, before the widget manager.
(function () {
  // 1. The widget manager loads its fonts relative to its AMD module's address: map that
  //    module to this site's _static/widgets/ (require.js reads a global `require` object
  //    defined before it loads as its configuration).
  var me = document.currentScript && document.currentScript.src;
  if (me && typeof window.require === "undefined") {
    var widgets = me.replace(/[^/]*$/, "") + "widgets";
    window.require = { paths: { "@jupyter-widgets/html-manager/dist": widgets } };
    window.__jupyter_widgets_assets_path__ = widgets + "/";
  }

  // 2. ipywidgets 8 still calls the MathJax 2 API (MathJax.Hub.Queue) to typeset widget
  //    labels. The site serves MathJax 3: map the old call onto the new one.
  function shim() {
    if (!window.MathJax || window.MathJax.Hub) return;
    window.MathJax.Hub = {
      Queue: function () {
        if (window.MathJax.typesetPromise) window.MathJax.typesetPromise();
      },
    };
  }
  shim();
  document.addEventListener("DOMContentLoaded", shim);
})();
