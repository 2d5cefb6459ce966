// Progressive enhancement only: the site works without this file.
// Highlights the source a citation marker points to. Never builds HTML from data.
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("a.cite") : null;
  if (!link) { return; }
  var id = link.getAttribute("href").slice(1);
  var item = document.getElementById(id);
  if (!item) { return; }
  document.querySelectorAll(".sources li.highlight").forEach(function (li) { li.classList.remove("highlight"); });
  item.classList.add("highlight");
});
