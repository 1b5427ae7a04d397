// The portal's read-aloud button (issue 16, point 9): the page's main text spoken by the browser's own
// speech (Web Speech API). The button is hidden in the HTML and shown only where the browser can speak;
// with scripts off or without speech the page works the same. Loaded from this server (CSP 'self').
(function () {
  var b = document.getElementById('read-aloud');
  var s = window.speechSynthesis;
  if (!b || !s || typeof window.SpeechSynthesisUtterance !== 'function') return;
  var root = b.closest('[lang]');
  var lang = root ? root.getAttribute('lang') : 'zh-CN';
  var start = b.textContent;
  var stop = b.getAttribute('data-stop') || start;
  b.hidden = false;
  b.addEventListener('click', function () {
    if (s.speaking) {
      s.cancel();
      b.textContent = start;
      return;
    }
    var main = document.getElementById('main');
    var u = new SpeechSynthesisUtterance(main ? main.innerText : document.body.innerText);
    u.lang = lang;
    u.rate = 0.9;
    u.onend = u.onerror = function () {
      b.textContent = start;
    };
    b.textContent = stop;
    s.speak(u);
  });
})();
