import Foundation
import Hummingbird

/// The JSON body of an API error: what is wrong, and which record and field when it is one of them.
struct APIErrorBody: Encodable, Error, Sendable {
    var error: String
    var index: Int?
    var field: String?
}

/// Builds JSON responses.
enum APIResponse {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return json(data: data, status: status)
    }

    static func json(data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, index: Int? = nil, field: String? = nil)
        -> Response
    {
        json(APIErrorBody(error: message, index: index, field: field), status: status)
    }
}
