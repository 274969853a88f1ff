namespace Fleetkey.Storage.Transfer;

/// <summary>The export file is not one this store can take; nothing was changed. The message says every problem found.</summary>
public sealed class TransferException(string message) : Exception(message);
