import Hummingbird

extension FormData {
    /// The body of `request` as form fields, the bytes left in `request` so that they can be read again
    /// (the admin middleware reads the CSRF field, then the handler the rest); throws the 413 page past
    /// `limit` bytes.
    static func collect(from request: inout Request, limit: Int) async throws -> FormData {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw PageError.tooLarge(limit: limit)
        }
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return FormData(bytes: buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw PageError.tooLarge(limit: limit)
        }
    }

    /// The body of `request` as form fields, for a handler that reads it once.
    static func read(_ request: Request, limit: Int) async throws -> FormData {
        var request = request
        return try await collect(from: &request, limit: limit)
    }
}
