using Microsoft.AspNetCore.Http;

namespace Fleetkey.Api.Wire;

/// <summary>A request body read whole within a bound, or why it could not be (for the caller to answer in its own protocol).</summary>
internal readonly record struct BoundedBody(byte[] Buffer, int Length, string? Problem)
{
    public ReadOnlyMemory<byte> Bytes => Buffer.AsMemory(0, Length);

    /// <summary>
    /// Reads the body within <paramref name="maxBytes"/>: a larger declared length is refused unread, a
    /// longer chunked body as soon as it passes the bound. A body that cannot be read (malformed chunking,
    /// too slow) is a <see cref="Problem"/> too, never an exception.
    /// </summary>
    public static async Task<BoundedBody> ReadAsync(HttpRequest http, int maxBytes, CancellationToken cancellationToken)
    {
        var tooLarge = new BoundedBody([], 0, $"The request body is larger than {maxBytes} bytes.");
        if (http.ContentLength > maxBytes)
        {
            return tooLarge;
        }

        var buffer = new byte[Math.Clamp(http.ContentLength ?? 8192, 1, maxBytes)];
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length == maxBytes)
                    {
                        // Full: one more byte means the body is over the bound.
                        var probe = new byte[1];
                        if (await http.Body.ReadAsync(probe, cancellationToken) > 0)
                        {
                            return tooLarge;
                        }

                        break;
                    }

                    Array.Resize(ref buffer, Math.Min(maxBytes, buffer.Length * 2));
                }

                var read = await http.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch (BadHttpRequestException exception)
        {
            return new BoundedBody([], 0, $"The request body could not be read ({exception.StatusCode}).");
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            return new BoundedBody([], 0, "The request body could not be read.");
        }

        return new BoundedBody(buffer, length, null);
    }
}
