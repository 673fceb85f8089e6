// footfall counter.js: records the page views of the page that includes it (single-page apps
// included), shows the total, and sends custom events.
//
//   <script src="https://counter.example/counter.js" data-target="#visits" defer></script>
//
// data-footfall        base URL of the footfall server (no trailing "/count"); default: the folder
//                      counter.js itself was loaded from (footfall serves it at /counter.js).
// data-target          CSS selector of the element(s) whose text becomes the count; optional
//                      (without it the visit is only recorded).
// data-hash            count hash changes as page views; the path sent includes the hash
//                      ("/#/about").
// data-auto="false"    send no page view by itself (neither the first one nor on navigations):
//                      the page calls footfall.view().
// data-outbound-links  a click on a link to another host sends "Outbound Link: Click" {url}.
// data-file-downloads  a click on a link to a file (.pdf, .zip, ...) sends "File Download" {url}.
//
// window.footfall.view(path?)           sends a page view of `path` (default: the current one).
// window.footfall.event(name, props?)   sends custom event `name` with `props` (values as
//                                       strings).
//
// The first page view of a page load sends GET {base}/count?path=<page path>&ref=<origin of
// document.referrer>&screen=<screen width>[&utm_source=…] (the landing page's utm_* parameters,
// ref= or source= as utm_source; nothing else of its query) without cookies or referrer header,
// and writes the count with textContent; without data-target it only records the view, with
// navigator.sendBeacon. Every later view (history.pushState/replaceState to another path, the back
// button, hash changes with data-hash) and every event is a beacon: POST {base}/api/event with a
// text/plain JSON body {path, referrer, screen[, name, props]} (no preflight, never delays a
// navigation); the shown count stays the one of the page load. The same path is never counted
// twice in a row by itself. Browsers that send Do Not Track (navigator.doNotTrack "1") or Global
// Privacy Control get GET {base}/api/count instead of the first view: they see the count,
// nothing is recorded, and nothing else is sent. A page being prerendered sends nothing until it
// is shown. A page restored from the back/forward cache does not run this again, so it is not
// counted twice. Nothing is stored on the device. When footfall is unreachable or refuses the
// origin, the target is left as it was and one console.debug line says why.
(() => {
  const script = document.currentScript;
  if (!script || !window.fetch) return;
  const attribute = (name) => script.getAttribute('data-' + name);
  const flag = (name) => script.hasAttribute('data-' + name);
  const base = (attribute('footfall') || script.src.replace(/[^/]*$/, '')).replace(/\/+$/, '');
  const selector = attribute('target');
  const optedOut = navigator.doNotTrack === '1' || navigator.globalPrivacyControl === true;
  const fail = (error) => console.debug('footfall: no count:', (error && error.message) || error);
  // footfall keeps only the referrer's host: send no more than its origin.
  let referrer = document.referrer && new URL(document.referrer).origin;
  if (referrer === 'null') referrer = '';
  let lastPath;        // of the last page view sent: the same path is not counted twice in a row
  let counted = false;  // whether this page load sent its first view

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

  // Runs `action` now, or when a page being prerendered is shown.
  const whenShown = (action) => document.prerendering ?
      document.addEventListener('prerenderingchange', action, {once: true}) : action();

  // footfall expects the decoded path; one that does not decode is sent as it is.
  const currentPath = () => {
    const path = location.pathname + (flag('hash') ? location.hash : '');
    try {
      return decodeURIComponent(path);
    } catch (error) {
      return path;
    }
  };

  // POSTs `body` to /api/event with sendBeacon (text/plain: no preflight; delivered even while
  // the page unloads). Browsers without sendBeacon send nothing.
  const beacon = (body) => whenShown(
      () => navigator.sendBeacon && navigator.sendBeacon(base + '/api/event', JSON.stringify(body)));

  // The landing page's campaign: its utm_* parameters (GoatCounter's ref= or source= naming the
  // source when utm_source is absent), and nothing else of its query, which may hold secrets.
  const campaign = {};
  const search = new URLSearchParams(location.search);
  for (const name of ['source', 'medium', 'campaign', 'content', 'term']) {
    const value = search.get('utm_' + name) || (name == 'source' && (search.get('ref') || search.get('source')));
    if (value) campaign[name] = value;
  }

  const view = (path) => {
    lastPath = path;
    if (counted) {
      // A later view follows a link within the site: like footfall does for a page reached by a
      // link of the same site, it has no referrer.
      if (!optedOut) beacon({path, referrer: '', screen: screen.width});
      return;
    }
    counted = true;
    whenShown(() => {
      let url = base + '/api/count';
      if (!optedOut) {
        if (!selector && navigator.sendBeacon) {
          return beacon({path, referrer, screen: screen.width, utm: campaign});
        }
        url = base + '/count?path=' + encodeURIComponent(path) + '&screen=' + screen.width +
              (referrer ? '&ref=' + encodeURIComponent(referrer) : '');
        for (const name in campaign) url += '&utm_' + name + '=' + encodeURIComponent(campaign[name]);
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
    });
  };

  // footfall's limits for an event (src/core/event_body.h): a name of 1 to 64 bytes without
  // control characters; at most 10 props, keys of at most 64 bytes, values of at most 256; a body
  // of at most 8192 bytes. Props over a limit are left out; an event with a bad name is not sent.
  const bytes = (text) => new Blob([text]).size;
  const event = (name, props) => {
    if (optedOut) return;
    if (typeof name !== 'string' || !/^[^\0-\x1f\x7f-\x9f]+$/.test(name) || bytes(name) > 64) {
      return console.debug('footfall: no event: bad name', name);
    }
    const body = {name, props: {}, path: currentPath(), referrer, screen: screen.width};
    for (const [key, value] of Object.entries(Object(props))) {
      if (Object.keys(body.props).length > 9) break;
      body.props[key] = String(value);
      if (bytes(key) > 64 || bytes(body.props[key]) > 256 || bytes(JSON.stringify(body)) > 8192) {
        delete body.props[key];
      }
    }
    beacon(body);
  };

  window.footfall = {view: (path) => view(path || currentPath()), event};

  // Counts the current path unless it was the last one counted.
  const track = () => currentPath() !== lastPath && view(currentPath());
  if (attribute('auto') !== 'false') {
    whenShown(() => {
      track();
      for (const method of ['pushState', 'replaceState']) {
        const original = history[method];
        history[method] = function () {
          const result = original.apply(this, arguments);
          track();
          return result;
        };
      }
      // The back and forward buttons; hash changes (which count only with data-hash).
      addEventListener('popstate', track);
      addEventListener('hashchange', track);
    });
  }

  const downloads = flag('file-downloads');
  const outbound = flag('outbound-links');
  if (downloads || outbound) {
    // A click only queues a beacon, so the link's navigation goes ahead at once.
    document.addEventListener('click', (click) => {
      const link = click.target.closest && click.target.closest('a[href]');
      if (!link || !/^https?:$/.test(link.protocol)) return;
      if (downloads && /\.(pdf|xlsx|docx|txt|rtf|csv|exe|key|pps|pptx?|7z|pkg|rar|gz|zip|avi|mov|mp4|mpeg|wmv|midi|mp3|wav|wma|dmg)$/i
          .test(link.pathname)) {
        event('File Download', {url: link.href});
      } else if (outbound && link.host !== location.host) {
        event('Outbound Link: Click', {url: link.href});
      }
    });
  }
})();
