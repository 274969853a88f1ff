namespace Fleetkey.Storage.Sql;

/// <summary>Closes a store whichever it is: PostgreSQL's asynchronously (its connection pool), SQLite's synchronously.</summary>
public static class StoreDisposal
{
    public static async ValueTask CloseAsync(this SqlFleetStore store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}
