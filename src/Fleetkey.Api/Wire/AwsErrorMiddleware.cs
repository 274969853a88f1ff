using System.Text.Encodings.Web;
using System.Text.Json;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Api.Wire;

/// <summary>
/// The one place errors reach the wire, as rest-json clients parse them: the status of the error
/// shape, <c>x-amzn-ErrorType</c> with its name, and a JSON body with <c>message</c> (plus
/// <c>resourceId</c>/<c>resourceArn</c> where the shape has them). Every response carries an
/// <c>x-amzn-RequestId</c>.
/// </summary>
internal sealed partial class AwsErrorMiddleware(RequestDelegate next, ILogger<AwsErrorMiddleware> logger)
{
    // Messages quote the values they refuse ("Value 'a b' at 'thingName' …"); the default encoder
    // wrote every quote as \u0027, every + as \u002B and every non-ASCII letter as \uXXXX, which is
    // valid JSON but unreadable in a log or a curl transcript. The relaxed encoder escapes only what
    // JSON requires (", \, control characters; it also escapes what is not a valid, assigned
    // character). What it gives up is HTML-safety (<, >, & and ' unescaped), which matters only where
    // JSON is embedded in a page; this body is application/json, sent with nosniff, and never HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        context.Response.Headers["x-amzn-RequestId"] = requestId;
        try
        {
            await next(context);
            if (context.Response.StatusCode == StatusCodes.Status404NotFound && context.GetEndpoint() is null && !context.Response.HasStarted)
            {
                throw new ServiceException(ErrorCode.UnknownOperation, $"No operation matches {context.Request.Method} {context.Request.Path}.");
            }

            if (context.Response.StatusCode == StatusCodes.Status405MethodNotAllowed && !context.Response.HasStarted)
            {
                throw new ServiceException(ErrorCode.UnknownOperation, $"No operation matches {context.Request.Method} {context.Request.Path}.");
            }
        }
        catch (ServiceException exception) when (!context.Response.HasStarted)
        {
            LogServiceError(logger, context.Request.Method, context.Request.Path, exception.Code.Name, requestId);
            await WriteAsync(context, exception, requestId);
        }
        catch (BadHttpRequestException exception) when (!context.Response.HasStarted)
        {
            var code = exception.StatusCode == StatusCodes.Status413PayloadTooLarge ? ErrorCode.RequestEntityTooLarge : ErrorCode.InvalidRequest;
            await WriteAsync(context, new ServiceException(code, exception.Message), requestId);
        }
        catch (Exception exception) when (!context.Response.HasStarted && exception is not OperationCanceledException)
        {
            LogInternalError(logger, exception, context.Request.Method, context.Request.Path, requestId);
            await WriteAsync(context, new ServiceException(ErrorCode.InternalFailure, "An internal error occurred. The request id identifies it in the server log."), requestId);
        }
    }

    /// <param name="headers">Headers the answer adds (Retry-After, WWW-Authenticate), set after the response is cleared.</param>
    internal static async Task WriteAsync(HttpContext context, ServiceException exception, string requestId, IReadOnlyDictionary<string, string>? headers = null)
    {
        var response = context.Response;
        response.Clear();
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        response.StatusCode = exception.Code.HttpStatus;
        response.ContentType = "application/json";

        // Refusals are counted by what they were: http_server_request_duration_seconds_count gets error_type.
        context.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new("error.type", exception.Code.Name));
        response.Headers["x-amzn-RequestId"] = requestId;
        response.Headers["x-amzn-ErrorType"] = exception.Code.Name;
        response.Headers.XContentTypeOptions = "nosniff";
        using var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("message", exception.Message);
            if (exception.ResourceId is not null)
            {
                writer.WriteString("resourceId", exception.ResourceId);
            }

            if (exception.Resource is { } resource)
            {
                writer.WriteString("resourceArn", Arn.For(AwsScope.Of(context), resource.Kind, resource.Name));
            }

            writer.WriteEndObject();
        }

        await response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted);
    }

    [LoggerMessage(EventId = 100, EventName = "RequestFailed", Level = LogLevel.Information, Message = "{Method} {Path} answered {ErrorCode} ({RequestId})")]
    private static partial void LogServiceError(ILogger logger, string method, PathString path, string errorCode, string requestId);

    [LoggerMessage(EventId = 101, EventName = "InternalError", Level = LogLevel.Error, Message = "{Method} {Path} failed ({RequestId})")]
    private static partial void LogInternalError(ILogger logger, Exception exception, string method, PathString path, string requestId);
}
