using System.Net.Http.Headers;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleetkey.Client;

/// <summary>
/// The AWS IoT control plane over HTTP, as Fleetkey (or AWS IoT) serves it: every call signed with
/// SigV4 (service <c>iot</c>), errors thrown as <see cref="IotServiceException"/>s, throttling and
/// server errors retried with backoff. Thread-safe; create one and share it, or register it with
/// <c>services.AddFleetkeyClient(...)</c>.
/// </summary>
public sealed partial class IotClient : IIotClient, IDisposable
{
    private static readonly ProductInfoHeaderValue UserAgent = new(
        "Fleetkey.Client",
        typeof(IotClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0");

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ClientConfiguration _configuration;
    private readonly RetryPolicy _retry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates a client with its own <see cref="HttpClient"/>, which <see cref="Dispose"/> releases.</summary>
    /// <param name="options">Endpoint, region, credentials and retries; unset values are looked up as <see cref="IotClientOptions"/> describes.</param>
    /// <exception cref="InvalidOperationException">No region or credentials could be found, the endpoint is not an http(s) URL, or the CA bundle cannot be read.</exception>
    public IotClient(IotClientOptions? options = null)
        : this(options ?? new IotClientOptions(), ClientConfiguration.Resolve(options ?? new IotClientOptions()))
    {
    }

    private IotClient(IotClientOptions options, ClientConfiguration configuration)
        : this(new HttpClient(ClientHandler.Create(configuration)), options, configuration, timeProvider: null, logger: null)
    {
        _ownsHttp = true;
    }

    /// <summary>Creates a client that sends through <paramref name="httpClient"/> (from <c>IHttpClientFactory</c>, say), which stays the caller's.</summary>
    /// <param name="httpClient">Sends the requests; its base address is not used.</param>
    /// <param name="options">Endpoint, region, credentials and retries; unset values are looked up as <see cref="IotClientOptions"/> describes.</param>
    /// <param name="timeProvider">The clock that dates signatures and times backoffs (default <see cref="TimeProvider.System"/>).</param>
    /// <param name="logger">Where retries are logged.</param>
    /// <exception cref="InvalidOperationException">No region or credentials could be found, or the endpoint is not an http(s) URL.</exception>
    public IotClient(HttpClient httpClient, IotClientOptions? options = null, TimeProvider? timeProvider = null, ILogger<IotClient>? logger = null)
        : this(httpClient, options ?? new IotClientOptions(), ClientConfiguration.Resolve(options ?? new IotClientOptions()), timeProvider, logger)
    {
    }

    internal IotClient(HttpClient httpClient, IotClientOptions options, ClientConfiguration configuration, TimeProvider? timeProvider, ILogger? logger, Func<double>? random = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        _http = httpClient;
        _configuration = configuration;
        _retry = new RetryPolicy(options.MaxAttempts, options.BaseRetryDelay, options.MaxRetryDelay, random);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The control-plane URL the client sends to.</summary>
    public Uri Endpoint => _configuration.Endpoint;

    /// <summary>The region the client signs for.</summary>
    public string Region => _configuration.Region;

    /// <summary>The access key id the client signs with (never the secret).</summary>
    public string AccessKeyId => _configuration.Credentials.AccessKeyId;

    /// <summary>The request option that names the operation of a request, for handlers in the <see cref="HttpClient"/> pipeline.</summary>
    public static HttpRequestOptionsKey<string> OperationOption { get; } = new("Fleetkey.Client.Operation");

    /// <summary>Releases the <see cref="HttpClient"/> when the client created it.</summary>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<TResponse> SendAsync<TResponse>(OperationRequest operation, JsonTypeInfo<TResponse> output, CancellationToken cancellationToken)
    {
        using var response = await SendWithRetriesAsync(operation, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(body.Length == 0 ? "{}"u8 : body, output)
                ?? throw new JsonException("The response body is JSON null.");
        }
        catch (JsonException exception)
        {
            throw new IotServiceException(
                "InvalidResponse",
                $"{operation.Name} answered HTTP {(int)response.StatusCode} with a body that is not its output shape: {exception.Message}",
                response.StatusCode,
                RequestId(response));
        }
    }

    private async Task SendAsync(OperationRequest operation, CancellationToken cancellationToken)
    {
        using var response = await SendWithRetriesAsync(operation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends until a success, an error that is not retried, or the last attempt; returns the successful response.</summary>
    private async Task<HttpResponseMessage> SendWithRetriesAsync(OperationRequest operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            HttpResponseMessage response;
            using (var message = CreateMessage(operation))
            {
                try
                {
                    response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException exception) when (attempt < _retry.MaxAttempts)
                {
                    var delay = _retry.Delay(attempt);
                    ClientLog.RetryingAfterConnectionFailure(_logger, exception, operation.Name, attempt, _retry.MaxAttempts, delay);
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            IotErrorResponse error;
            using (response)
            {
                error = await IotErrorResponse.ReadAsync(response, cancellationToken).ConfigureAwait(false);
            }

            if (attempt < _retry.MaxAttempts && RetryPolicy.IsRetryable(error.StatusCode, error.ErrorCode))
            {
                var delay = _retry.Delay(attempt);
                ClientLog.RetryingAfterError(_logger, operation.Name, error.ErrorCode, (int)error.StatusCode, attempt, _retry.MaxAttempts, delay);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            ClientLog.OperationFailed(_logger, operation.Name, error.ErrorCode, (int)error.StatusCode, error.RequestId);
            throw IotErrors.Create(error);
        }
    }

    /// <summary>A new signed message for one attempt: each attempt is dated (and so signed) when it is sent.</summary>
    private HttpRequestMessage CreateMessage(OperationRequest operation)
    {
        // Built as text and kept as is: the labels are already percent-encoded, and the signature
        // covers exactly these bytes (System.Uri would otherwise unescape and drop dot segments).
        var endpoint = _configuration.Endpoint;
        var query = operation.Query;
        var uri = new Uri(
            endpoint.GetLeftPart(UriPartial.Authority) + endpoint.AbsolutePath.TrimEnd('/') + operation.Path + (query.Length > 0 ? "?" + query : string.Empty),
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

        var message = new HttpRequestMessage(operation.Method, uri);
        message.Options.Set(OperationOption, operation.Name);
        message.Headers.UserAgent.Add(UserAgent);
        foreach (var (name, value) in operation.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (operation.Body is { } body)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        RequestSigner.Sign(message, operation.Body ?? [], _configuration.Credentials, _configuration.Region, _time.GetUtcNow());
        return message;
    }

    private static string? RequestId(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-amzn-RequestId", out var values) ? values.FirstOrDefault() : null;
}
