using System.Data.Common;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlSession : IStoreSession
{
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;

    public SqlSession(DbConnection connection, DbTransaction transaction, ISqlDialect dialect)
    {
        _connection = connection;
        _transaction = transaction;
        Dialect = dialect;
        Things = new SqlThingRepository(this);
        ThingTypes = new SqlThingTypeRepository(this);
        ThingGroups = new SqlThingGroupRepository(this);
        Tags = new SqlTagRepository(this);
        AccessKeys = new SqlAccessKeyRepository(this);
        Certificates = new SqlCertificateRepository(this);
        CaCertificates = new SqlCaCertificateRepository(this);
        ThingPrincipals = new SqlThingPrincipalRepository(this);
        Policies = new SqlPolicyRepository(this);
        CaMaterial = new SqlCaMaterialRepository(this);
        DeviceKeyPool = new SqlDeviceKeyPoolRepository(this);
    }

    public ISqlDialect Dialect { get; }

    public IThingRepository Things { get; }

    public IThingTypeRepository ThingTypes { get; }

    public IThingGroupRepository ThingGroups { get; }

    public ITagRepository Tags { get; }

    public IAccessKeyRepository AccessKeys { get; }

    public ICertificateRepository Certificates { get; }

    public ICaCertificateRepository CaCertificates { get; }

    public IThingPrincipalRepository ThingPrincipals { get; }

    public IPolicyRepository Policies { get; }

    public ICaMaterialRepository CaMaterial { get; }

    public IDeviceKeyPoolRepository DeviceKeyPool { get; }

    public DbCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DBNull ? null : value;
    }

    public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    public async Task<T?> QuerySingleAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
        where T : class
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
    }

    /// <summary>Runs an insert and turns a unique violation into the caller's error.</summary>
    public async Task InsertUniqueAsync(string sql, Action onDuplicate, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        try
        {
            await ExecuteAsync(sql, cancellationToken, parameters);
        }
        catch (DbException exception) when (Dialect.IsUniqueViolation(exception))
        {
            onDuplicate();
            throw;
        }
    }
}
