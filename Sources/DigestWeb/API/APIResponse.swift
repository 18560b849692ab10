import DigestCore
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

/// Reads API request bodies.
enum APIRequest {
    /// The body as JSON records (an object is one record), or the error response to send.
    static func records(_ request: Request, maxBodyBytes: Int, what: String) async throws -> Result<[JSONValue], ResponseFailure> {
        let buffer: ByteBuffer
        switch try await body(request, maxBodyBytes: maxBodyBytes, what: what) {
        case .success(let body): buffer = body
        case .failure(let failure): return .failure(failure)
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Data(buffer.readableBytesView))
        } catch {
            return .failure(ResponseFailure(APIResponse.error(.badRequest, "not valid JSON: \(error.message)")))
        }
        switch json {
        case .array(let values):
            if values.isEmpty {
                return .failure(ResponseFailure(APIResponse.error(.unprocessableContent, "the array is empty")))
            }
            return .success(values)
        case .object: return .success([json])
        default:
            return .failure(
                ResponseFailure(
                    APIResponse.error(.badRequest, "expected an object or an array of objects, found \(json.typeName)"))
            )
        }
    }

    /// The whole body, at most `maxBodyBytes`, or the 413 to send.
    static func body(_ request: Request, maxBodyBytes: Int, what: String) async throws -> Result<ByteBuffer, ResponseFailure> {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            return .failure(tooLarge(maxBodyBytes, what))
        }
        do {
            return .success(try await request.body.collect(upTo: maxBodyBytes))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return .failure(tooLarge(maxBodyBytes, what))
        }
    }

    private static func tooLarge(_ maxBodyBytes: Int, _ what: String) -> ResponseFailure {
        ResponseFailure(
            APIResponse.error(
                .contentTooLarge, "the request body is larger than \(maxBodyBytes) bytes; send fewer \(what) at a time"))
    }
}

/// Answers a store call that missed its deadline with a JSON 503 and `Retry-After`, for the API
/// routes (the pages get the styled page from `ErrorPagesMiddleware`).
struct StoreUnavailableJSONMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as StoreUnavailable {
            var response = APIResponse.error(.serviceUnavailable, "\(error); retry in a few seconds")
            response.headers[.retryAfter] = PageError.databaseRetryAfter
            return response
        }
    }
}

extension Router {
    /// The routes of the API under `path`: the bearer token required (`BearerTokenMiddleware`), and a store call that
    /// missed its deadline answered with a JSON 503 (`StoreUnavailableJSONMiddleware`).
    func apiGroup(_ path: RouterPath, token: String?, tokenVariable: String) -> RouterGroup<Context> {
        group(path)
            .add(middleware: BearerTokenMiddleware<Context>(token: token, tokenVariable: tokenVariable))
            .add(middleware: StoreUnavailableJSONMiddleware<Context>())
    }
}
