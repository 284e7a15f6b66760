// The corpus list (gr.HTML js_on_load; Gradio provides element, trigger): a Remove button sends a click event
// with its doc_id, which qa.page.Page.remove_clicked handles.
element.addEventListener('click', (e) => {
  const b = e.target && e.target.closest ? e.target.closest('button[data-qa-remove]') : null;
  if (!b) return;
  b.disabled = true;
  b.textContent = 'Removing…';
  trigger('click', { doc_id: b.getAttribute('data-qa-remove') });
});
