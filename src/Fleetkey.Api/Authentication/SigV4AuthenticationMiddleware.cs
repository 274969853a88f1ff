using System.Buffers;
using System.Security.Cryptography;
using Fleetkey.Core.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Authentication;

/// <summary>
/// Requires a valid SigV4 signature on every control-plane request except endpoints marked
/// <see cref="IAllowAnonymous"/> (<c>/health</c>, <c>/ca.pem</c>). Runs after routing, so that it
/// sees the endpoint; a request that matched no endpoint still needs a signature, as on AWS.
/// </summary>
/// <remarks>
/// The body is buffered (bounded by <see cref="SigV4Options.MaxBodyBytes"/>) because its hash is
/// part of the signature; <see cref="HttpRequest.Body"/> is replaced by a seekable copy at position
/// 0 so handlers read it as usual. Failures are thrown as <see cref="ServiceException"/> for the
/// error middleware to render; success sets <see cref="SigV4Identity"/> as a request feature.
/// </remarks>
internal sealed class SigV4AuthenticationMiddleware
{
    private const int ReadChunkBytes = 16 * 1024;

    private readonly RequestDelegate _next;
    private readonly SigV4Options _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SigV4AuthenticationMiddleware> _logger;

    public SigV4AuthenticationMiddleware(
        RequestDelegate next,
        IOptions<SigV4Options> options,
        TimeProvider time,
        ILogger<SigV4AuthenticationMiddleware> logger)
    {
        _next = next;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            await _next(context);
            return;
        }

        var audit = context.Features.Get<RequestAudit>();
        audit?.SignatureRequired = true;
        var body = await BufferBodyAsync(context.Request, context.RequestAborted);
        context.Request.Body = body;
        context.Response.RegisterForDispose(body);
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length)));

        var (path, query) = RawPathAndQuery(context);
        var request = new SigV4Request(context.Request.Method, path, query, context.Request.Headers, payloadHash);

        // Resolved per request so that a scoped provider over the store works.
        var secrets = context.RequestServices.GetRequiredService<ISigningSecretProvider>();
        var result = await SigV4Verifier.VerifyAsync(request, _options.Service, _time.GetUtcNow(), secrets, context.RequestAborted);
        audit?.AccessKeyId = result.AccessKeyId;
        if (!result.Succeeded)
        {
            SigV4Log.AuthenticationFailed(_logger, result.Failure, result.AccessKeyId ?? "(none)");
            throw result.ToException();
        }

        var identity = result.Identity!;
        SigV4Log.Authenticated(_logger, identity.AccessKeyId, identity.Region);
        context.Features.Set(identity);
        await _next(context);
    }

    private async Task<MemoryStream> BufferBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var limit = _options.MaxBodyBytes;
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 0, limit));
        var chunk = ArrayPool<byte>.Shared.Rent(ReadChunkBytes);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk.AsMemory(0, ReadChunkBytes), cancellationToken)) > 0)
            {
                // Chunked bodies carry no length up front: stop as soon as the limit is passed.
                if (buffer.Length + read > limit)
                {
                    throw TooLarge(limit);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        buffer.Position = 0;
        return buffer;
    }

    private ServiceException TooLarge(int limit)
    {
        SigV4Log.RequestBodyTooLarge(_logger, limit);
        return new ServiceException(ErrorCode.RequestEntityTooLarge, SigV4Messages.RequestEntityTooLarge(limit));
    }

    /// <summary>
    /// The path and query as the client sent them: the signature covers the encoded form, which
    /// <see cref="HttpRequest.Path"/> has already decoded.
    /// </summary>
    internal static (string Path, string Query) RawPathAndQuery(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(rawTarget) && rawTarget[0] == '/')
        {
            var question = rawTarget.IndexOf('?', StringComparison.Ordinal);
            return question < 0 ? (rawTarget, string.Empty) : (rawTarget[..question], rawTarget[(question + 1)..]);
        }

        // No origin-form target (a test host, or an absolute-form target): rebuild the encoded form.
        var path = (context.Request.PathBase + context.Request.Path).ToUriComponent();
        var query = context.Request.QueryString.HasValue ? context.Request.QueryString.Value![1..] : string.Empty;
        return (path.Length == 0 ? "/" : path, query);
    }
}
