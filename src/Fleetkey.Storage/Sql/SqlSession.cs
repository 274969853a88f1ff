using System.Data.Common;

namespace Fleetkey.Storage.Sql;

/// <summary>
/// A connection that keeps its prepared commands for reuse: on SQLite, preparing a statement is a
/// good part of the cost of a small query. A rented command is the renter's until it is returned.
/// </summary>
public interface ICommandCachingConnection
{
    /// <summary>The connection's command for <paramref name="sql"/>, or null when it keeps no more.</summary>
    DbCommand? RentCommand(string sql);

    void ReturnCommand(DbCommand command);
}

/// <summary>
/// A transaction the store began and ends with SQL statements (BEGIN, COMMIT, ROLLBACK) rather than
/// through the provider, so that those statements stay prepared too; commands do not name it.
/// </summary>
public interface IStatementTransaction;

internal sealed class SqlSession : IStoreSession
{
    private readonly DbConnection _connection;
    private readonly DbTransaction? _transaction;

    public SqlSession(DbConnection connection, DbTransaction transaction, ISqlDialect dialect)
    {
        _connection = connection;

        // A transaction begun by statement is not the provider's: commands run in it without naming it.
        _transaction = transaction is IStatementTransaction ? null : transaction;
        Dialect = dialect;
        Things = new SqlThingRepository(this);
        ThingTypes = new SqlThingTypeRepository(this);
        ThingGroups = new SqlThingGroupRepository(this);
        Tags = new SqlTagRepository(this);
        AccessKeys = new SqlAccessKeyRepository(this);
        Certificates = new SqlCertificateRepository(this);
        CaCertificates = new SqlCaCertificateRepository(this);
        Revocation = new SqlRevocationRepository(this);
        ThingPrincipals = new SqlThingPrincipalRepository(this);
        Policies = new SqlPolicyRepository(this);
        CaMaterial = new SqlCaMaterialRepository(this);
        DeviceKeyPool = new SqlDeviceKeyPoolRepository(this);
        DeviceEndpoint = new SqlDeviceEndpointRepository(this);
        ProvisioningTemplates = new SqlProvisioningTemplateRepository(this);
        EnrollmentGroups = new SqlEnrollmentGroupRepository(this);
        Enrollments = new SqlEnrollmentRepository(this);
        FleetProvisioning = new SqlFleetProvisioningRepository(this);
        CertificateRenewals = new SqlCertificateRenewalRepository(this);
        Audit = new SqlAuditRepository(this);
    }

    public ISqlDialect Dialect { get; }

    public IThingRepository Things { get; }

    public IThingTypeRepository ThingTypes { get; }

    public IThingGroupRepository ThingGroups { get; }

    public ITagRepository Tags { get; }

    public IAccessKeyRepository AccessKeys { get; }

    public ICertificateRepository Certificates { get; }

    public ICaCertificateRepository CaCertificates { get; }

    public IRevocationRepository Revocation { get; }

    public IThingPrincipalRepository ThingPrincipals { get; }

    public IPolicyRepository Policies { get; }

    public ICaMaterialRepository CaMaterial { get; }

    public IDeviceKeyPoolRepository DeviceKeyPool { get; }

    public IDeviceEndpointRepository DeviceEndpoint { get; }

    public IProvisioningTemplateRepository ProvisioningTemplates { get; }
    public ICertificateRenewalRepository CertificateRenewals { get; }

    public IAuditRepository Audit { get; }

    public IEnrollmentGroupRepository EnrollmentGroups { get; }

    public IEnrollmentRepository Enrollments { get; }

    public IFleetProvisioningRepository FleetProvisioning { get; }

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
        var command = Rent(sql, parameters, out var cached);
        try
        {
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            Release(command, cached);
        }
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var command = Rent(sql, parameters, out var cached);
        try
        {
            var value = await command.ExecuteScalarAsync(cancellationToken);
            return value is DBNull ? null : value;
        }
        finally
        {
            Release(command, cached);
        }
    }

    public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var command = Rent(sql, parameters, out var cached);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(map(reader));
            }

            return rows;
        }
        finally
        {
            Release(command, cached);
        }
    }

    public async Task<T?> QuerySingleAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
        where T : class
    {
        var command = Rent(sql, parameters, out var cached);
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
        }
        finally
        {
            Release(command, cached);
        }
    }

    /// <summary>
    /// A command for <paramref name="sql"/>: the connection's prepared one when it keeps them
    /// (<see cref="ICommandCachingConnection"/>), its parameters rebound, else a new one.
    /// </summary>
    private DbCommand Rent(string sql, (string Name, object? Value)[] parameters, out bool cached)
    {
        var command = (_connection as ICommandCachingConnection)?.RentCommand(sql);
        cached = command is not null;
        if (command is null)
        {
            return Command(sql, parameters);
        }

        command.Transaction = _transaction;
        var bound = command.Parameters;
        if (bound.Count == parameters.Length)
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                var parameter = bound[i];
                if (!string.Equals(parameter.ParameterName, parameters[i].Name, StringComparison.Ordinal))
                {
                    break;
                }

                parameter.Value = parameters[i].Value ?? DBNull.Value;
                if (i == parameters.Length - 1)
                {
                    return command;
                }
            }

            if (parameters.Length == 0)
            {
                return command;
            }
        }

        bound.Clear();
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            bound.Add(parameter);
        }

        return command;
    }

    private void Release(DbCommand command, bool cached)
    {
        if (cached)
        {
            ((ICommandCachingConnection)_connection).ReturnCommand(command);
        }
        else
        {
            command.Dispose();
        }
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
