// ipywidgets 8 still calls the MathJax 2 API (MathJax.Hub.Queue) to typeset widget labels.
// The site serves MathJax 3; map the old call onto the new one so nothing logs an error.
(function () {
  function install() {
    if (!window.MathJax || window.MathJax.Hub) return;
    window.MathJax.Hub = {
      Queue: function () {
        if (window.MathJax.typesetPromise) window.MathJax.typesetPromise();
      },
    };
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
})();
