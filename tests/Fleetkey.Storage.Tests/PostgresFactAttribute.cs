using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// A test that needs both stores at once, so it cannot be a <see cref="TestStores.Kinds"/> row: skipped
/// (and shown as skipped) without FLEETKEY_TEST_POSTGRES, except in CI (CI=true), where it runs and fails.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestStores.PostgresRequested)
        {
            Skip = $"{TestStores.PostgresVariable} is not set (scripts/postgres.sh start prints the URL to export)";
        }
    }
}
