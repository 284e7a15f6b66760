// Runs once when the source viewer mounts (gr.HTML js_on_load; Gradio provides server, props, element): one
// capture-phase listener for the whole page. Cards carry href="#qa-open/<doc>/<start>/<end>"; [n] markers link to
// "#qa-c<turn>-<n>" (their card). server.open_source is qa.page.Page.open_source.
window.__qaViewer = { server, props, element };
if (!window.__qaBound) {
  window.__qaBound = true;
  const open = async (href) => {
    const parts = href.slice('#qa-open/'.length).split('/');
    if (parts.length !== 3) return;
    const v = window.__qaViewer;
    const req = { doc_id: decodeURIComponent(parts[0]), start: parseInt(parts[1], 10), end: parseInt(parts[2], 10) };
    v.props.value = '<p class="qa-loading">Opening the source…</p>';
    let html;
    try { html = await v.server.open_source(req); }
    catch (err) { html = '<div class="qa-error">Could not open the source.</div>'; }
    v.props.value = html;
    const show = (tries) => {
      const m = v.element.querySelector('mark.qa-hl');
      if (m) { m.scrollIntoView({ block: 'center' }); }
      else if (tries > 0) { setTimeout(() => show(tries - 1), 50); }
    };
    setTimeout(() => show(40), 0);
  };
  const activate = (card) => {
    document.querySelectorAll('a.qa-card.qa-active').forEach((x) => x.classList.remove('qa-active'));
    card.classList.add('qa-active');
    open(card.getAttribute('href'));
  };
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a') : null;
    if (!a) return;
    const href = a.getAttribute('href') || '';
    if (href.startsWith('#qa-open/')) {
      e.preventDefault(); e.stopPropagation(); activate(a);
    } else if (href.startsWith('#qa-c')) {
      e.preventDefault(); e.stopPropagation();
      const card = document.getElementById(href.slice(1));
      if (card) { card.scrollIntoView({ block: 'nearest' }); activate(card); }
    }
  }, true);
}
