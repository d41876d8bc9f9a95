// Hearth's dashboard script: it only enhances pages that work without it. No inline code, no
// request to another origin (the CSP allows neither).
(function () {
  'use strict';
  // A select marked data-autosubmit sends its form when it changes (site switcher, saved segments).
  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el && el.matches && el.matches('select[data-autosubmit]') && el.form) {
      el.form.submit();
    }
  });
  // Copy buttons: data-copy names the element whose text they copy.
  document.addEventListener('click', function (e) {
    var b = e.target && e.target.closest ? e.target.closest('button[data-copy]') : null;
    if (!b) return;
    var src = document.getElementById(b.getAttribute('data-copy'));
    if (!src || !navigator.clipboard) return;
    e.preventDefault();
    navigator.clipboard.writeText(src.textContent).then(function () {
      var done = b.getAttribute('data-copied');
      if (done) { b.textContent = done; }
    }, function () {});
  });
})();
