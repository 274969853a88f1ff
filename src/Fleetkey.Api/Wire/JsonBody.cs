using Fleetkey.Core.Errors;
using Fleetkey.Core.Json;
using Microsoft.AspNetCore.Http;

namespace Fleetkey.Api.Wire;

/// <summary>
/// The JSON body of a control-plane request, read once and checked by <see cref="StrictJson"/> before anything
/// parses it: invalid UTF-8 (raw or escaped), a key twice in one object, or malformed text is an
/// <c>InvalidRequestException</c> (400), as AWS IoT answers a body it cannot read, never a 500 from a reader.
/// </summary>
/// <remarks>
/// AWS IoT's model declares <c>InvalidRequestException</c> on every operation and no <c>SerializationException</c>;
/// its data plane answers "Payload contains invalid json" with the same error. SDKs map the modeled error to
/// their typed exception, so the client sees the same class as for any other invalid input.
/// </remarks>
internal static class JsonBody
{
    /// <summary>The body bytes, empty when there is none; strict JSON holding an object otherwise, or an InvalidRequestException.</summary>
    public static async ValueTask<ReadOnlyMemory<byte>> ReadObjectAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Body.CanSeek)
        {
            request.Body.Position = 0;
        }

        // The SigV4 middleware has already buffered (and bounded) the body to hash it: use that buffer.
        ReadOnlyMemory<byte> bytes;
        if (request.Body is MemoryStream buffered && buffered.TryGetBuffer(out var segment))
        {
            bytes = segment.AsMemory();
        }
        else
        {
            using var copy = new MemoryStream();
            await request.Body.CopyToAsync(copy, context.RequestAborted);
            bytes = copy.ToArray();
        }

        if (bytes.Length == 0)
        {
            return bytes;
        }

        if (StrictJson.FindProblem(bytes.Span) is { } problem)
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"The request body is not valid JSON: {problem}");
        }

        if (bytes.Span.TrimStart(" \t\r\n"u8) is not [(byte)'{', ..])
        {
            throw new ServiceException(ErrorCode.InvalidRequest, "The request body must be a JSON object.");
        }

        return bytes;
    }
}
