/// The "previous / page N of M / next" links of a paged list (the admin's readers and editions, the
/// archive), for the templates: nil when everything fits on one page.
enum Pager {
    static func links(page: Int, pageSize: Int, total: Int, link: (Int) -> String) -> [String: Any]? {
        let pages = max(1, (total + pageSize - 1) / pageSize)
        guard pages > 1 else { return nil }
        var pager: [String: Any] = ["page": page, "pages": pages]
        if page > 1 { pager["previous"] = link(min(page - 1, pages)) }
        if page < pages { pager["next"] = link(page + 1) }
        return pager
    }
}
