//! What the shared SQL asks of a database driver, stated once over sqlx's `Database` so that
//! one statement and one row mapping serve SQLite and PostgreSQL alike.
//!
//! sqlx's own `bind` and `try_get` need a bound per value type at every generic call site;
//! [`Engine`] gathers those bounds as supertraits, which Rust carries to every user, so the
//! shared code only ever says `B: SqlBackend`.

use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::{
    Arguments, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, SqlSafeStr,
    SqlStr, Type,
};
use uuid::Uuid;

/// A value the driver can bind as a statement parameter. `'q` is the lifetime of what the
/// value borrows: sqlx encodes `Option<&'q str>` only for that lifetime.
pub trait Bind<'q, T>: Database {
    fn bind_value(arguments: &mut Self::Arguments, value: T) -> Result<(), BoxDynError>;
}

impl<'q, DB: Database, T> Bind<'q, T> for DB
where
    T: Encode<'q, DB> + Type<DB>,
{
    fn bind_value(arguments: &mut DB::Arguments, value: T) -> Result<(), BoxDynError> {
        arguments.add(value)
    }
}

/// A value the driver can read out of a named column.
pub trait Column<T>: Database {
    fn column(row: &Self::Row, name: &str) -> Result<T, sqlx::Error>;
}

impl<DB: Database, T> Column<T> for DB
where
    T: for<'r> Decode<'r, DB> + Type<DB>,
    for<'n> &'n str: ColumnIndex<DB::Row>,
{
    fn column(row: &DB::Row, name: &str) -> Result<T, sqlx::Error> {
        row.try_get(name)
    }
}

/// A column type both bound and read, with or without NULL.
pub trait Value<T>:
    for<'q> Bind<'q, T> + for<'q> Bind<'q, Option<T>> + Column<T> + Column<Option<T>>
{
}

impl<DB, T> Value<T> for DB where
    DB: for<'q> Bind<'q, T> + for<'q> Bind<'q, Option<T>> + Column<T> + Column<Option<T>>
{
}

/// A driver the shared SQL runs on: the column types the registers use, and statements run
/// on one connection (a transaction's, or one taken from the read pool).
pub trait Engine:
    Database<Arguments: IntoArguments<Self>>
    + Value<Uuid>
    + Value<String>
    + Value<i64>
    + Value<i32>
    + Value<bool>
    + Value<Vec<u8>>
    + Value<DateTime<Utc>>
    + for<'a> Bind<'a, &'a Uuid>
    + for<'a> Bind<'a, &'a str>
    + for<'a> Bind<'a, Option<&'a str>>
    + for<'a> Bind<'a, &'a String>
    + for<'a> Bind<'a, &'a Option<String>>
    + for<'a> Bind<'a, &'a [u8]>
    + for<'a> Bind<'a, Option<&'a [u8]>>
    + for<'a> Bind<'a, &'a Vec<u8>>
    + for<'a> Bind<'a, &'a Option<Vec<u8>>>
{
    fn run<'c>(
        connection: &'c mut Self::Connection,
        sql: SqlStr,
        arguments: Self::Arguments,
    ) -> BoxFuture<'c, Result<Self::QueryResult, sqlx::Error>>;

    fn fetch_all<'c>(
        connection: &'c mut Self::Connection,
        sql: SqlStr,
        arguments: Self::Arguments,
    ) -> BoxFuture<'c, Result<Vec<Self::Row>, sqlx::Error>>;

    fn fetch_optional<'c>(
        connection: &'c mut Self::Connection,
        sql: SqlStr,
        arguments: Self::Arguments,
    ) -> BoxFuture<'c, Result<Option<Self::Row>, sqlx::Error>>;
}

impl<DB> Engine for DB
where
    DB: Database<Arguments: IntoArguments<DB>>
        + Value<Uuid>
        + Value<String>
        + Value<i64>
        + Value<i32>
        + Value<bool>
        + Value<Vec<u8>>
        + Value<DateTime<Utc>>
        + for<'a> Bind<'a, &'a Uuid>
        + for<'a> Bind<'a, &'a str>
        + for<'a> Bind<'a, Option<&'a str>>
        + for<'a> Bind<'a, &'a String>
        + for<'a> Bind<'a, &'a Option<String>>
        + for<'a> Bind<'a, &'a [u8]>
        + for<'a> Bind<'a, Option<&'a [u8]>>
        + for<'a> Bind<'a, &'a Vec<u8>>
        + for<'a> Bind<'a, &'a Option<Vec<u8>>>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn run<'c>(
        connection: &'c mut DB::Connection,
        sql: SqlStr,
        arguments: DB::Arguments,
    ) -> BoxFuture<'c, Result<DB::QueryResult, sqlx::Error>> {
        Box::pin(sqlx::query_with(sql, arguments).execute(connection))
    }

    fn fetch_all<'c>(
        connection: &'c mut DB::Connection,
        sql: SqlStr,
        arguments: DB::Arguments,
    ) -> BoxFuture<'c, Result<Vec<DB::Row>, sqlx::Error>> {
        Box::pin(sqlx::query_with(sql, arguments).fetch_all(connection))
    }

    fn fetch_optional<'c>(
        connection: &'c mut DB::Connection,
        sql: SqlStr,
        arguments: DB::Arguments,
    ) -> BoxFuture<'c, Result<Option<DB::Row>, sqlx::Error>> {
        Box::pin(sqlx::query_with(sql, arguments).fetch_optional(connection))
    }
}

/// A statement and its parameters, bound in order (`$1`, `$2`, ...: both drivers read them).
pub struct Stmt<DB: Engine> {
    sql: SqlStr,
    arguments: DB::Arguments,
    /// The first value that could not be encoded: the statement fails with it when run.
    error: Option<BoxDynError>,
}

impl<DB: Engine> Stmt<DB> {
    pub fn new(sql: impl SqlSafeStr) -> Self {
        Self {
            sql: sql.into_sql_str(),
            arguments: DB::Arguments::default(),
            error: None,
        }
    }

    #[must_use]
    pub fn bind<'q, T>(mut self, value: T) -> Self
    where
        DB: Bind<'q, T>,
    {
        if self.error.is_none()
            && let Err(error) = DB::bind_value(&mut self.arguments, value)
        {
            self.error = Some(error);
        }
        self
    }

    fn parts(self) -> Result<(SqlStr, DB::Arguments), sqlx::Error> {
        match self.error {
            Some(error) => Err(sqlx::Error::Encode(error)),
            None => Ok((self.sql, self.arguments)),
        }
    }

    pub async fn run(
        self,
        connection: &mut DB::Connection,
    ) -> Result<DB::QueryResult, sqlx::Error> {
        let (sql, arguments) = self.parts()?;
        DB::run(connection, sql, arguments).await
    }

    pub async fn fetch_all(
        self,
        connection: &mut DB::Connection,
    ) -> Result<Vec<DB::Row>, sqlx::Error> {
        let (sql, arguments) = self.parts()?;
        DB::fetch_all(connection, sql, arguments).await
    }

    pub async fn fetch_optional(
        self,
        connection: &mut DB::Connection,
    ) -> Result<Option<DB::Row>, sqlx::Error> {
        let (sql, arguments) = self.parts()?;
        DB::fetch_optional(connection, sql, arguments).await
    }

    pub async fn fetch_one(self, connection: &mut DB::Connection) -> Result<DB::Row, sqlx::Error> {
        self.fetch_optional(connection)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

/// Reads a named column, turning a missing column or a value of the wrong type into
/// [`StoreError::Corrupt`] instead of the panic of sqlx's `Row::get`.
pub trait Get {
    fn col<T>(&self, name: &str) -> StoreResult<T>
    where
        Self: Sized + Row,
        Self::Database: Column<T>;
}

impl<R: Row> Get for R {
    fn col<T>(&self, name: &str) -> StoreResult<T>
    where
        R::Database: Column<T>,
    {
        <R::Database as Column<T>>::column(self, name)
            .map_err(|error| StoreError::Corrupt(format!("column {name}: {error}")))
    }
}
