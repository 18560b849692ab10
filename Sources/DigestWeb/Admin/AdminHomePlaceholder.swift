import Hummingbird

/// `GET /admin/`: until the dashboard exists, the preview. Only here so that the sign-in page's default
/// destination answers; the dashboard replaces this file.
struct AdminHomePlaceholder: Sendable {
    func addRoutes(to routes: PageRoutes) {
        routes.get("") { request, _ in
            // Relative, so it holds under a proxy's path prefix: from `/admin/` and from `/admin`.
            Response(
                status: .seeOther, headers: [.location: request.uri.path.hasSuffix("/") ? "preview" : "admin/preview"])
        }
    }
}
