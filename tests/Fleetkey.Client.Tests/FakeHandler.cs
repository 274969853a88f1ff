using System.Net;
using System.Text;

namespace Fleetkey.Client.Tests;

/// <summary>An HTTP handler that answers from a script and records every request it was sent, with its body.</summary>
internal sealed class FakeHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] answers) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<SentRequest> _requests = [];

    /// <summary>Called with each request before it is answered (e.g. to record the fake clock).</summary>
    public Action<SentRequest>? OnSend { get; init; }

    public IReadOnlyList<SentRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Answers every request with 200 and <paramref name="json"/>.</summary>
    public static FakeHandler Always(string json = "{}") => new(_ => Json(HttpStatusCode.OK, json));

    public static HttpResponseMessage Json(HttpStatusCode status, string json, string? errorType = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (errorType is not null)
        {
            response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", errorType);
        }

        response.Headers.TryAddWithoutValidation("x-amzn-RequestId", "req-" + status.ToString());
        return response;
    }

    public static HttpResponseMessage Error(HttpStatusCode status, string code, string message) =>
        Json(status, $$"""{"message":"{{message}}"}""", code);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .ToDictionary(h => h.Key, h => string.Join(',', h.Value), StringComparer.OrdinalIgnoreCase);
        var sent = new SentRequest(request.Method.Method, request.RequestUri!, headers, body, request.Options.TryGetValue(IotClient.OperationOption, out var operation) ? operation : null);
        int index;
        lock (_gate)
        {
            _requests.Add(sent);
            index = _requests.Count - 1;
        }

        OnSend?.Invoke(sent);
        return answers[Math.Min(index, answers.Length - 1)](request);
    }
}

/// <summary>One request as the client put it on the wire (HttpClient adds <c>Host</c> from the URI).</summary>
internal sealed record SentRequest(string Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, byte[] Body, string? Operation)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string Host => Uri.IsDefaultPort ? Uri.Host : $"{Uri.Host}:{Uri.Port}";
}
