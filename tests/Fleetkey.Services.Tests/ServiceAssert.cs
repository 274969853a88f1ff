using Fleetkey.Core.Errors;
using Xunit;

namespace Fleetkey.Services.Tests;

internal static class ServiceAssert
{
    /// <summary>Asserts that the action fails with a <see cref="ServiceException"/> of the given code (and message part).</summary>
    public static async Task<ServiceException> ThrowsAsync(ErrorCode code, Func<Task> action, string? messagePart = null)
    {
        var exception = await Assert.ThrowsAsync<ServiceException>(action);
        Assert.Same(code, exception.Code);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, exception.Message, StringComparison.Ordinal);
        }

        return exception;
    }

    public static ServiceException Throws(ErrorCode code, Action action, string? messagePart = null)
    {
        var exception = Assert.Throws<ServiceException>(action);
        Assert.Same(code, exception.Code);
        if (messagePart is not null)
        {
            Assert.Contains(messagePart, exception.Message, StringComparison.Ordinal);
        }

        return exception;
    }
}
