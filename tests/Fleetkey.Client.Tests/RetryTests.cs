using System.Net;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Client.Tests;

/// <summary>Retries: throttling and 5xx with exponential backoff, never another 4xx, and cancellable.</summary>
public sealed class RetryTests
{
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(100);
    private static readonly DescribeThingRequest Request = new() { ThingName = "thing-1" };
    private const string Thing = """{"thingName":"thing-1","version":3}""";

    private static readonly DateTimeOffset Start = new(2025, 6, 1, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, "ServiceUnavailableException")]
    [InlineData(HttpStatusCode.InternalServerError, "InternalFailureException")]
    [InlineData(HttpStatusCode.TooManyRequests, "TooManyRequestsException")]
    [InlineData(HttpStatusCode.BadRequest, "ThrottlingException")]
    public async Task Call_RetryableErrorThenSuccess_RetriesAfterBackoffAndReturns(HttpStatusCode status, string code)
    {
        var (client, handler, time, attemptTimes) = Create(
            3,
            _ => FakeHandler.Error(status, code, "slow down"),
            _ => FakeHandler.Error(status, code, "slow down"),
            _ => FakeHandler.Json(HttpStatusCode.OK, Thing));

        var thing = await client.DescribeThingAsync(Request);

        Assert.Equal(3L, thing.Version);
        Assert.Equal(3, handler.Requests.Count);
        // Jitter is fixed at its maximum: the waits are base, then twice base, and each attempt comes after its wait.
        Assert.Equal([BaseDelay, 2 * BaseDelay], time.Delays);
        Assert.Equal([Start, Start + BaseDelay, Start + (3 * BaseDelay)], attemptTimes);
    }

    [Fact]
    public async Task Call_ServerErrorOnEveryAttempt_ThrowsLastErrorAfterMaxAttempts()
    {
        var (client, handler, time, _) = Create(4, _ => FakeHandler.Error(HttpStatusCode.ServiceUnavailable, "ServiceUnavailableException", "down"));

        var exception = await Assert.ThrowsAsync<ServiceUnavailableException>(() => client.DescribeThingAsync(Request));

        Assert.Equal(4, handler.Requests.Count);
        Assert.Equal([BaseDelay, 2 * BaseDelay, 4 * BaseDelay], time.Delays);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, exception.StatusCode);
        Assert.Equal("down", exception.Message);
        Assert.True(exception.IsRetryable);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "InvalidRequestException", typeof(InvalidRequestException))]
    [InlineData(HttpStatusCode.NotFound, "ResourceNotFoundException", typeof(ResourceNotFoundException))]
    [InlineData(HttpStatusCode.Conflict, "VersionConflictException", typeof(VersionConflictException))]
    [InlineData(HttpStatusCode.Forbidden, "InvalidSignatureException", typeof(InvalidSignatureException))]
    [InlineData((HttpStatusCode)410, "LimitExceededException", typeof(LimitExceededException))]
    public async Task Call_ClientError_IsNotRetried(HttpStatusCode status, string code, Type exceptionType)
    {
        var (client, handler, time, _) = Create(5, _ => FakeHandler.Error(status, code, "no"), _ => FakeHandler.Json(HttpStatusCode.OK, Thing));

        var exception = await Assert.ThrowsAnyAsync<IotServiceException>(() => client.DescribeThingAsync(Request));

        Assert.IsType(exceptionType, exception);
        Assert.Equal(code, exception.ErrorCode);
        Assert.Equal(status, exception.StatusCode);
        Assert.False(exception.IsRetryable);
        Assert.Single(handler.Requests);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public async Task Call_MaxAttemptsOne_DoesNotRetry()
    {
        var (client, handler, _, _) = Create(1, _ => FakeHandler.Error(HttpStatusCode.ServiceUnavailable, "ServiceUnavailableException", "down"));

        await Assert.ThrowsAsync<ServiceUnavailableException>(() => client.DescribeThingAsync(Request));

        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Call_ConnectionFailsThenSucceeds_Retries()
    {
        var (client, handler, _, _) = Create(3, _ => throw new HttpRequestException("connection refused"), _ => FakeHandler.Json(HttpStatusCode.OK, Thing));

        var thing = await client.DescribeThingAsync(Request);

        Assert.Equal("thing-1", thing.ThingName);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task Call_CancelledDuringBackoff_ThrowsCancellationWithoutAnotherAttempt()
    {
        // A clock that never moves: the backoff waits until cancelled. Its timer being set is the call
        // entering the backoff after the first attempt.
        var time = new TimerCountingTimeProvider(Start);
        var (client, handler, _) = Create(5, time, _ => FakeHandler.Error(HttpStatusCode.ServiceUnavailable, "ServiceUnavailableException", "down"));
        using var cancellation = new CancellationTokenSource();

        var call = client.DescribeThingAsync(Request, cancellation.Token);
        await Signals.WaitUntilAsync(() => Task.WhenAny(time.NextChange, call), () => time.TimersSet == 1 || call.IsCompleted);
        Assert.Equal(1, time.TimersSet);
        Assert.Single(handler.Requests);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Call_AlreadyCancelled_SendsNothing()
    {
        var (client, handler, _, _) = Create(3, _ => FakeHandler.Json(HttpStatusCode.OK, Thing));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DescribeThingAsync(Request, new CancellationToken(canceled: true)));

        Assert.Empty(handler.Requests);
    }

    [Theory]
    [InlineData(1, 0.5, 50)]
    [InlineData(2, 1.0, 200)]
    [InlineData(3, 0.25, 100)]
    [InlineData(20, 1.0, 1000)]
    [InlineData(2, 0.0, 0)]
    public void Delay_FullJitter_IsRandomPartOfCappedExponential(int attempt, double random, int expectedMilliseconds)
    {
        var policy = new RetryPolicy(10, BaseDelay, TimeSpan.FromSeconds(1), () => random);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), policy.Delay(attempt));
    }

    private static (IotClient Client, FakeHandler Handler, InstantTimeProvider Time, List<DateTimeOffset> AttemptTimes) Create(int maxAttempts, params Func<HttpRequestMessage, HttpResponseMessage>[] answers)
    {
        var time = new InstantTimeProvider(Start);
        var (client, handler, attemptTimes) = Create(maxAttempts, time, answers);
        return (client, handler, time, attemptTimes);
    }

    private static (IotClient Client, FakeHandler Handler, List<DateTimeOffset> AttemptTimes) Create(int maxAttempts, TimeProvider time, params Func<HttpRequestMessage, HttpResponseMessage>[] answers)
    {
        var attemptTimes = new List<DateTimeOffset>();
        var handler = new FakeHandler(answers) { OnSend = _ => attemptTimes.Add(time.GetUtcNow()) };
        var options = new IotClientOptions { MaxAttempts = maxAttempts, BaseRetryDelay = BaseDelay };
        var configuration = new ClientConfiguration(new Uri("http://127.0.0.1:5080"), "eu-west-1", new AwsCredentials("AKIDTEST", "secret", null, "test"));
#pragma warning disable CA2000 // the HttpClient lives as long as the test
        var client = new IotClient(new HttpClient(handler), options, configuration, time, logger: null, random: () => 1.0);
#pragma warning restore CA2000
        return (client, handler, attemptTimes);
    }

    /// <summary>
    /// A clock whose timers fire at once (on the thread pool) and move it forward by their due time:
    /// the backoffs a call waits are recorded, and take no real time.
    /// </summary>
    private sealed class InstantTimeProvider(DateTimeOffset start) : TimeProvider
    {
        private readonly List<TimeSpan> _delays = [];
        private readonly Lock _delaysLock = new();
        private long _elapsedTicks;

        public IReadOnlyList<TimeSpan> Delays
        {
            get
            {
                lock (_delaysLock)
                {
                    return [.. _delays];
                }
            }
        }

        public override DateTimeOffset GetUtcNow() => start.AddTicks(Interlocked.Read(ref _elapsedTicks));

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_delaysLock)
            {
                _delays.Add(dueTime);
            }

            Interlocked.Add(ref _elapsedTicks, dueTime.Ticks);
            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new FiredTimer();
        }

        private sealed class FiredTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
