// footfall counter.js: records one visit of the page that includes it and shows the total.
//
//   <script src="https://counter.example/counter.js" data-footfall="https://counter.example"
//           data-target="#visits" defer></script>
//
// data-footfall  base URL of the footfall server (no trailing "/count"); default: the folder
//                counter.js itself was loaded from.
// data-target    CSS selector of the element(s) whose text becomes the count; optional (without
//                it the visit is only recorded).
//
// Once per page load it sends GET {base}/count?path=<page path>&ref=<origin of document.referrer>
// &screen=<screen width> without cookies or referrer header, and writes the count with
// textContent. Without data-target it only records the visit, with navigator.sendBeacon
// (POST {base}/api/event, a text/plain JSON body: no preflight, survives the page closing). Browsers that send
// Do Not Track (navigator.doNotTrack "1") or Global Privacy Control get GET {base}/api/count
// instead: they see the count, nothing is recorded. A page being prerendered waits until it is
// shown. A page restored from the back/forward cache does not run this again, so it is not
// counted twice. Nothing is stored on the device. When footfall is unreachable or refuses the
// origin, the target is left as it was and one console.debug line says why.
(() => {
  const script = document.currentScript;
  if (!script || !window.fetch) return;
  const attribute = (name) => script.getAttribute('data-' + name);
  const base = (attribute('footfall') || script.src.replace(/[^/]*$/, '')).replace(/\/+$/, '');
  const selector = attribute('target');
  const fail = (error) => console.debug('footfall: no count:', (error && error.message) || error);

  const show = (count) => {
    const fill = () => {
      try {
        if (selector) {
          for (const element of document.querySelectorAll(selector)) element.textContent = count;
        }
      } catch (error) {
        fail(error);  // a bad selector
      }
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', fill, {once: true});
    } else {
      fill();
    }
  };

  const run = () => {
    let url = base + '/api/count';
    if (!(navigator.doNotTrack === '1' || navigator.globalPrivacyControl === true)) {
      // footfall expects the decoded path; one that does not decode is sent as it is.
      let path = location.pathname;
      try {
        path = decodeURIComponent(path);
      } catch (error) {}
      // footfall keeps only the referrer's host: send no more than its origin.
      let ref = document.referrer && new URL(document.referrer).origin;
      if (ref === 'null') ref = '';
      if (!selector && navigator.sendBeacon) {
        navigator.sendBeacon(base + '/api/event', JSON.stringify({path, referrer: ref, screen: screen.width}));
        return;
      }
      url = base + '/count?path=' + encodeURIComponent(path) + '&screen=' + screen.width +
            (ref ? '&ref=' + encodeURIComponent(ref) : '');
    } else if (!selector) {
      return;  // nothing to record, nothing to show
    }
    fetch(url, {credentials: 'omit', keepalive: true, cache: 'no-store', referrerPolicy: 'no-referrer'})
        .then((response) => response.ok ? response.json() : Promise.reject(Error('HTTP ' + response.status)))
        .then((body) => {
          if (typeof body.count !== 'number') throw Error('no count in the answer');
          show(body.count.toLocaleString());
        })
        .catch(fail);
  };

  if (document.prerendering) {
    document.addEventListener('prerenderingchange', run, {once: true});
  } else {
    run();
  }
})();
