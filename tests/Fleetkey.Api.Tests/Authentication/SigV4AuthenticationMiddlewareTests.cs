using System.Text;
using Fleetkey.Api.Authentication;
using Fleetkey.Core.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Api.Tests.Authentication;

public sealed class SigV4AuthenticationMiddlewareTests
{
    private readonly FakeTimeProvider _time = new(BotocoreIotVectors.SignedAt);
    private readonly CapturingLogger _log = new();

    [Fact]
    public async Task InvokeAsync_SignedRequest_SetsIdentityAndLeavesBodyReadable()
    {
        var vector = BotocoreIotVectors.CreateThingWithJsonBody;
        var context = CreateContext(vector);
        string? bodySeenByHandler = null;
        SigV4Identity? identitySeenByHandler = null;
        var (seekable, position) = (false, -1L);

        await InvokeAsync(context, async ctx =>
        {
            (seekable, position) = (ctx.Request.Body.CanSeek, ctx.Request.Body.Position);
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            bodySeenByHandler = await reader.ReadToEndAsync();
            identitySeenByHandler = ctx.GetSigV4Identity();
        });

        Assert.Equal(Encoding.UTF8.GetString(vector.Body), bodySeenByHandler);
        Assert.Equal(new SigV4Identity(BotocoreIotVectors.AccessKeyId, "eu-central-1"), identitySeenByHandler);
        Assert.True(seekable);
        Assert.Equal(0, position);
    }

    [Fact]
    public async Task InvokeAsync_UnsignedRequest_ThrowsMissingAuthenticationTokenWithoutCallingNext()
    {
        var context = CreateContext(BotocoreIotVectors.ListThingsWithEncodedQuery, withoutHeader: "Authorization");
        var nextCalled = false;

        var error = await Assert.ThrowsAsync<ServiceException>(() => InvokeAsync(context, _ =>
        {
            nextCalled = true;
            return Task.CompletedTask;
        }));

        Assert.Same(ErrorCode.MissingAuthenticationToken, error.Code);
        Assert.Equal("Missing Authentication Token", error.Message);
        Assert.False(nextCalled);
        Assert.Null(context.Features.Get<SigV4Identity>());
    }

    [Fact]
    public async Task InvokeAsync_UnknownAccessKey_ThrowsUnrecognizedClientAndLogsKeyAndKindOnly()
    {
        var context = CreateContext(BotocoreIotVectors.CreateThingWithJsonBody, secrets: new InMemorySecrets());

        var error = await Assert.ThrowsAsync<ServiceException>(() => InvokeAsync(context, _ => Task.CompletedTask));

        Assert.Same(ErrorCode.UnrecognizedClient, error.Code);
        Assert.Equal("The security token included in the request is invalid.", error.Message);
        var entry = Assert.Single(_log.Entries, e => e.EventId.Id == 1);
        Assert.Equal("SigV4AuthenticationFailed", entry.EventId.Name);
        Assert.Contains(BotocoreIotVectors.AccessKeyId, entry.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(SigV4FailureKind.UnknownAccessKey), entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("f1fae6c019e9304e", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_WrongSecret_LogsNeitherSecretNorSignature()
    {
        var context = CreateContext(
            BotocoreIotVectors.CreateThingWithJsonBody,
            secrets: new InMemorySecrets((BotocoreIotVectors.AccessKeyId, "not-the-secret")));

        var error = await Assert.ThrowsAsync<ServiceException>(() => InvokeAsync(context, _ => Task.CompletedTask));

        Assert.Same(ErrorCode.InvalidSignature, error.Code);
        Assert.All(_log.Entries, e =>
        {
            Assert.DoesNotContain("not-the-secret", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(BotocoreIotVectors.Secret, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("f1fae6c019e9304e", e.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task InvokeAsync_RequestLaterThanFiveMinutesAfterSigning_ThrowsSignatureExpired()
    {
        var context = CreateContext(BotocoreIotVectors.DeleteThingWithQuery);
        _time.Advance(TimeSpan.FromMinutes(6));

        var error = await Assert.ThrowsAsync<ServiceException>(() => InvokeAsync(context, _ => Task.CompletedTask));

        Assert.Same(ErrorCode.InvalidSignature, error.Code);
        Assert.StartsWith("Signature expired: 20250314T150926Z is now earlier than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_BodyOverLimitWithContentLength_ThrowsRequestEntityTooLarge()
    {
        var context = CreateContext(BotocoreIotVectors.CreateThingWithJsonBody);

        var error = await Assert.ThrowsAsync<ServiceException>(() => InvokeAsync(context, _ => Task.CompletedTask, maxBodyBytes: 64));

        Assert.Same(ErrorCode.RequestEntityTooLarge, error.Code);
        Assert.Equal(413, error.Code.HttpStatus);
        Assert.Equal("Request body exceeds the limit of 64 bytes", error.Message);
    }

    [Fact]
    public async Task InvokeAsync_ChunkedBodyOverLimit_ThrowsRequestEntityTooLarge()
    {
        var context = CreateContext(BotocoreIotVectors.CreateThingWithJsonBody);
        context.Request.ContentLength = null;
        context.Request.Headers.Remove("Content-Length");

        var error = await Assert.ThrowsAsync<ServiceException>(() => InvokeAsync(context, _ => Task.CompletedTask, maxBodyBytes: 64));

        Assert.Same(ErrorCode.RequestEntityTooLarge, error.Code);
    }

    [Fact]
    public async Task InvokeAsync_BodyExactlyAtLimit_IsAccepted()
    {
        var vector = BotocoreIotVectors.CreateThingWithJsonBody;
        var context = CreateContext(vector);
        var nextCalled = false;

        await InvokeAsync(context, _ =>
        {
            nextCalled = true;
            return Task.CompletedTask;
        }, maxBodyBytes: vector.Body.Length);

        Assert.True(nextCalled);
    }

    [Fact]
    public async Task InvokeAsync_AllowAnonymousEndpoint_SkipsVerificationAndBody()
    {
        var context = CreateContext(BotocoreIotVectors.ListThingsWithEncodedQuery, withoutHeader: "Authorization");
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(new AllowAnonymousAttribute()), "health"));
        var originalBody = context.Request.Body;
        var nextCalled = false;

        await InvokeAsync(context, _ =>
        {
            nextCalled = true;
            return Task.CompletedTask;
        });

        Assert.True(nextCalled);
        Assert.Same(originalBody, context.Request.Body);
        Assert.Null(context.Features.Get<SigV4Identity>());
    }

    [Fact]
    public async Task InvokeAsync_EndpointWithoutAllowAnonymous_RequiresSignature()
    {
        var context = CreateContext(BotocoreIotVectors.ListThingsWithEncodedQuery, withoutHeader: "Authorization");
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(), "ListThings"));

        var error = await Assert.ThrowsAsync<ServiceException>(() => InvokeAsync(context, _ => Task.CompletedTask));

        Assert.Same(ErrorCode.MissingAuthenticationToken, error.Code);
    }

    [Fact]
    public async Task InvokeAsync_RawTargetKeepsEncoding_VerifiesDoubleEncodedLabel()
    {
        // PathString would decode %3A; the signature covers the encoded wire form.
        var context = CreateContext(BotocoreIotVectors.DescribeThingWithColonInLabel);
        context.Request.Path = "/things/thing:1";
        SigV4Identity? identity = null;

        await InvokeAsync(context, ctx =>
        {
            identity = ctx.GetSigV4Identity();
            return Task.CompletedTask;
        });

        Assert.Equal("eu-central-1", identity?.Region);
    }

    [Fact]
    public void RawPathAndQuery_NoRawTarget_RebuildsEncodedPathAndQuery()
    {
        var context = new DefaultHttpContext();
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = string.Empty;
        context.Request.Path = "/things/thing:1";
        context.Request.QueryString = new QueryString("?attributeValue=a%20b");

        var (path, query) = SigV4AuthenticationMiddleware.RawPathAndQuery(context);

        Assert.Equal("/things/thing:1", path);
        Assert.Equal("attributeValue=a%20b", query);
    }

    [Fact]
    public async Task UseSigV4Authentication_RegisteredPipeline_VerifiesAndRunsHandler()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton<ISigningSecretProvider>(new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret)));
        services.AddSigV4Authentication(o => o.MaxBodyBytes = 4096);
        using var provider = services.BuildServiceProvider();
        var app = new ApplicationBuilder(provider);
        app.UseSigV4Authentication();
        app.Run(ctx =>
        {
            ctx.Response.StatusCode = 204;
            return Task.CompletedTask;
        });
        var pipeline = app.Build();
        var context = CreateContext(BotocoreIotVectors.UpdateCertificatePutWithQuery);
        context.RequestServices = provider;

        await pipeline(context);

        Assert.Equal(204, context.Response.StatusCode);
        Assert.Equal("us-west-2", context.GetSigV4Identity().Region);
    }

    [Fact]
    public void AddSigV4Authentication_Defaults_AreOneMebibyteAndIotAndNoSecretProvider()
    {
        var services = new ServiceCollection();

        services.AddSigV4Authentication();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SigV4Options>>().Value;
        Assert.Equal(1024 * 1024, options.MaxBodyBytes);
        Assert.Equal("iot", options.Service);
        Assert.Null(provider.GetService<ISigningSecretProvider>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void AddSigV4Authentication_NonPositiveBodyLimit_FailsValidation()
    {
        var services = new ServiceCollection();

        services.AddSigV4Authentication(o => o.MaxBodyBytes = 0);
        using var provider = services.BuildServiceProvider();

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SigV4Options>>().Value);
    }

    private static DefaultHttpContext CreateContext(BotocoreVector vector, string? withoutHeader = null, InMemorySecrets? secrets = null)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = vector.Method;
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = vector.Query.Length == 0 ? vector.Path : $"{vector.Path}?{vector.Query}";
        request.Path = vector.Path;
        if (vector.Query.Length > 0)
        {
            request.QueryString = new QueryString("?" + vector.Query);
        }

        foreach (var (name, value) in vector.Headers)
        {
            if (!string.Equals(name, withoutHeader, StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Append(name, value);
            }
        }

        request.Body = new MemoryStream(vector.Body);
        var services = new ServiceCollection();
        services.AddSingleton<ISigningSecretProvider>(secrets ?? new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret)));
        context.RequestServices = services.BuildServiceProvider();
        return context;
    }

    private Task InvokeAsync(HttpContext context, RequestDelegate next, int maxBodyBytes = 1024 * 1024)
    {
        var middleware = new SigV4AuthenticationMiddleware(
            next,
            Options.Create(new SigV4Options { MaxBodyBytes = maxBodyBytes }),
            _time,
            _log);
        return middleware.InvokeAsync(context);
    }

    private sealed class CapturingLogger : ILogger<SigV4AuthenticationMiddleware>
    {
        public List<(LogLevel Level, EventId EventId, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, eventId, formatter(state, exception)));
    }
}
